"""The reference's corpus, past the parser: entries its translator rejected are rejected
here with a 4xx error when resolved against the test model (decisions.md, "The OData
corpus"), and nothing in the corpus crashes the resolver or the compiler.

A few corpus URLs start with the reference test suites' API root (`/university/…`,
`/example/…`, `/migrations/…`); that root is the version prefix here, so it is dropped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fleetyard.errors import FleetyardError, ODataSyntaxError
from fleetyard.odata.compile import compile_read
from fleetyard.odata.parser import parse
from fleetyard.odata.permissions import Permissions
from fleetyard.odata.resolve import Resolver
from fleetyard.sql.render import renderer
from tests.odata.model import MODEL

CORPUS = json.loads((Path(__file__).parent / "corpus.json").read_text())
ROOTS = ("/university/", "/example/", "/migrations/")
ALL = Permissions.all()


def _url(entry: dict) -> str:
    url = entry["url"]
    for root in ROOTS:
        if url.startswith(root):
            return url[len(root) - 1:]
    return url


def _resolve_and_compile(url: str) -> None:
    req = parse(url)
    plan = Resolver(MODEL, ALL, req.binds).resolve(req, "GET")
    statement = compile_read(plan)
    for dialect in ("sqlite", "postgres"):
        renderer(dialect).render(statement)


TRANSLATOR_REJECTED = [
    e for e in CORPUS
    if not e["valid"] and "method" not in e and "REJECTED by parser" not in e["note"]
]


@pytest.mark.parametrize("entry", TRANSLATOR_REJECTED, ids=lambda e: e["url"][:80])
def test_translator_rejections_are_4xx(entry):
    with pytest.raises(FleetyardError) as info:
        _resolve_and_compile(_url(entry))
    assert not isinstance(info.value, ODataSyntaxError) or "REJECTED by parser" in entry["note"]
    assert 400 <= info.value.status < 500


def test_every_corpus_url_resolves_or_is_refused_cleanly():
    resolved = refused = 0
    for entry in CORPUS:
        if "method" in entry:
            continue
        try:
            _resolve_and_compile(_url(entry))
            resolved += 1
        except FleetyardError as e:
            assert 400 <= e.status < 500, entry["url"]
            refused += 1
    # The corpus's own test model (pilots, planes, licences, …) is most of it; the rest
    # are the parser suite's placeholder names (`/resource`, `/model`), unknown here.
    assert resolved >= 340, (resolved, refused)
