"""Property tests of the parser: any input string gives a Request or an ODataSyntaxError,
never another exception; well-formed URLs from `strategies.odata_urls` always parse.

The tests call `parse_unguarded` (no last-resort wrapper) so that a bug shows here as the
exception it is, instead of as a syntax error."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from pathlib import Path as FilePath

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fleetyard.odata import ODataSyntaxError, parse
from fleetyard.odata.ast import AliasRef, Literal, Request
from fleetyard.odata.parser import parse_unguarded
from tests.odata.strategies import EXAMPLE_MODEL, odata_urls

CORPUS_URLS = sorted({e["url"] for e in json.loads((FilePath(__file__).parent / "corpus.json").read_text())})

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters that matter to the grammar, to make random text reach deep into it.
GRAMMAR = "/?&$@()=,;:'% +-.*0123456789abdeilnoqrstuvxyz_%20%27%24%2BandoreqnotinanyallPTDHMS"
TOKENS = [
    "/", "?", "&", "$filter=", "$select=", "$expand=", "$orderby=", "$top=", "$skip=", "$count",
    "%24top=", "@x=", "@x", "(", ")", ",", ";", "'", "''", "%27", " ", "%20", "+", " eq ", " and ",
    " or ", "not ", " in ", "any(", "all(", "a:", "a/", "b", "1", "-2.5", "true", "null",
    "datetime'2024-01-02T03%3A04Z'", "date'2024-01-01'", "duration'-P1DT2H'", "contains(",
    "substring(", "now()", "/$count", "/$links", "($filter=", " asc", " desc", "*", "%zz", "%C3",
]


def check(url: str) -> Request | None:
    """Parse `url`: a Request whose literals all point at binds of their kind, or a
    syntax error with an offset inside the URL. Anything else fails the test."""
    try:
        req = parse_unguarded(url)
    except ODataSyntaxError as e:
        assert 0 <= e.offset <= len(url)
        assert e.caret().endswith("^") and e.expected
        return None
    assert isinstance(req, Request)
    for lit in _literals(req):
        assert 0 <= lit.index < len(req.binds) and req.binds[lit.index].kind == lit.kind
    hash(req)  # the tree is a cache key: it must hash
    return req


def _literals(node: object):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Literal):
            yield n
        elif isinstance(n, tuple):
            stack.extend(n)
        elif is_dataclass(n) and not isinstance(n, type):
            stack.extend(getattr(n, f.name) for f in fields(n) if f.name != "binds")


@FUZZ
@given(st.text())
@example("")
@example("/")
@example("/d?$filter=" + "(" * 10000)
@example("/d?$filter=a eq '\udcff'")
def test_random_text(url):
    check(url)
    check("/d?" + url)
    check("/d?$filter=" + url)


@FUZZ
@given(st.binary())
def test_random_bytes(data):
    check(data.decode("latin-1"))
    check("/r?$filter=" + data.decode("utf-8", errors="surrogateescape"))


@FUZZ
@given(st.text(alphabet=GRAMMAR, max_size=60))
def test_text_made_of_grammar_characters(text):
    check("/r?$filter=" + text)
    check("/r(" + text)
    check("/r?$expand=a(" + text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS), max_size=25))
def test_token_soup(tokens):
    text = "".join(tokens)
    check("/r?" + text)
    check("/r?$filter=" + text)
    check("/r" + text)


@st.composite
def mutated_corpus_urls(draw) -> str:
    url = draw(st.sampled_from(CORPUS_URLS))
    for _ in range(draw(st.integers(1, 4))):
        n = len(url)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 8)))
        op = draw(st.integers(0, 4))
        if op == 0:  # delete a slice
            url = url[:i] + url[j:]
        elif op == 1:  # insert grammar characters or tokens
            url = url[:i] + draw(st.sampled_from(TOKENS + list(GRAMMAR))) + url[i:]
        elif op == 2:  # duplicate a slice
            url = url[:j] + url[i:j] + url[j:]
        elif op == 3:  # replace a character by any character
            url = url[:i] + draw(st.characters()) + url[i + 1 :]
        else:  # cut the end
            url = url[:i]
    return url


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_corpus_urls())
def test_mutated_corpus_urls(url):
    check(url)


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(odata_urls(EXAMPLE_MODEL))
def test_well_formed_urls_parse(url):
    req = check(url)
    assert req is not None, url
    assert not any(isinstance(n, AliasRef) for n in _all_nodes(req))


def _all_nodes(node: object):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, tuple):
            stack.extend(n)
        elif is_dataclass(n) and not isinstance(n, type):
            stack.extend(getattr(n, f.name) for f in fields(n) if f.name != "binds")


@FUZZ
@given(st.text())
def test_guarded_parse_raises_only_syntax_errors(url):
    try:
        parse("/r?$filter=" + url)
    except ODataSyntaxError:
        pass
