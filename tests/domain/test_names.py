"""Generated device names (spec/model.md §4.1): `adjective-noun` from fleetyard's own lists."""

from __future__ import annotations

import re

from fleetyard.domain.names import ADJECTIVES, NOUNS, device_name


def test_word_lists_are_distinct_lower_case_words():
    for words in (ADJECTIVES, NOUNS):
        assert len(words) >= 100 and len(set(words)) == len(words)
        assert all(re.fullmatch(r"[a-z]+", w) for w in words)


def test_a_name_is_an_adjective_and_a_noun():
    for _ in range(200):
        adjective, noun = device_name().split("-")
        assert adjective in ADJECTIVES and noun in NOUNS


def test_names_vary():
    assert len({device_name() for _ in range(50)}) > 40
