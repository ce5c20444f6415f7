"""Generated device names: `adjective-noun`, for a device POSTed without a name
(spec/model.md §4.1). fleetyard's own word lists: short, lower-case, friendly words that
read well together and never spell anything awkward.
"""

from __future__ import annotations

import secrets

ADJECTIVES = (
    "agile", "airy", "amber", "ample", "azure", "balmy", "bouncy", "brisk", "bubbly", "busy",
    "candid", "cheery", "chilly", "clever", "cobalt", "comfy", "coral", "cosmic", "cozy", "crisp",
    "curious", "dapper", "daring", "dewy", "dizzy", "dreamy", "eager", "early", "easy", "elated",
    "epic", "fabled", "fair", "fast", "feisty", "fluffy", "fond", "frank", "fresh", "frisky",
    "fuzzy", "gallant", "giddy", "gleaming", "glossy", "golden", "graceful", "grand", "handy",
    "happy", "hardy", "hazel", "hearty", "honest", "humble", "jade", "jazzy", "jovial", "keen",
    "kind", "lavish", "lemon", "lilac", "limber", "lofty", "loyal", "lucid", "lunar", "magic",
    "mellow", "merry", "mighty", "mint", "modest", "nimble", "noble", "novel", "olive", "peachy",
    "perky", "placid", "plucky", "polite", "prime", "quick", "quirky", "radiant", "rosy", "rustic",
    "sage", "salty", "savvy", "scarlet", "serene", "sleek", "snappy", "sonic", "spry", "stellar",
    "sturdy", "sunny", "swift", "teal", "tidy", "topaz", "tranquil", "trusty", "upbeat", "urban",
    "valiant", "velvet", "vivid", "warm", "witty", "zesty",
)

NOUNS = (
    "acorn", "anchor", "antler", "apricot", "aspen", "atlas", "badger", "bamboo", "basil", "beacon",
    "beetle", "birch", "bison", "blossom", "bonsai", "boulder", "breeze", "brook", "cactus",
    "canyon", "cedar", "cinder", "clover", "comet", "compass", "coral", "cougar", "cove", "crane",
    "cricket", "crystal", "cypress", "delta", "dingo", "dolphin", "dune", "eagle", "ember",
    "falcon", "fern", "fjord", "flint", "fox", "galaxy", "gecko", "geyser", "glacier", "grove",
    "harbor", "hazelnut", "heron", "hickory", "horizon", "ibis", "iris", "island", "jasper",
    "juniper", "kestrel", "kiwi", "lagoon", "lantern", "lark", "lemur", "lichen", "lotus", "lynx",
    "magnet", "maple", "marble", "meadow", "meteor", "mango", "moose", "nebula", "nectar", "oak",
    "oasis", "ocelot", "orbit", "orchid", "otter", "owl", "panda", "pebble", "pepper", "pine",
    "planet", "plume", "prairie", "quartz", "quokka", "raven", "reef", "ridge", "river", "robin",
    "saffron", "sequoia", "sparrow", "spruce", "summit", "thistle", "thunder", "tulip", "tundra",
    "walrus", "willow", "wombat", "yak", "zephyr",
)


def device_name() -> str:
    """A fresh `adjective-noun` name; names may repeat (they are labels, not keys)."""
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}"
