"""The reference's URL corpus (spec/decisions.md "The OData corpus") against the parser:
valid URLs parse, URLs the reference's parser rejected raise ODataSyntaxError, and no
entry makes the parser raise anything else. Also the URLs the SDKs and CLI were recorded
sending (spec/client-requests/)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fleetyard.odata import ODataSyntaxError
from fleetyard.odata.parser import parse_unguarded

HERE = Path(__file__).parent
CORPUS = json.loads((HERE / "corpus.json").read_text())
CLIENT_REQUESTS = HERE.parents[2] / "shared" / "spec" / "client-requests"


def odata_path(entry: dict) -> str:
    """The URL as `parse` takes it. Entries from Pine's own HTTP tests still carry the
    API root (`/example/device`, `/university/student`): drop that first segment."""
    url: str = entry["url"]
    if "pinejs test" in entry["source"]:
        return "/" + url.split("/", 2)[2]
    return url


VALID = [e for e in CORPUS if e["valid"] and "method" not in e]
REJECTED = [e for e in CORPUS if "REJECTED by parser" in e["note"]]
OTHERS = [e for e in CORPUS if e not in VALID and e not in REJECTED]


def test_corpus_counts():
    assert len(CORPUS) == 1383
    assert (len(VALID), len(REJECTED), len(OTHERS)) == (1344, 9, 30)


@pytest.mark.parametrize("entry", VALID, ids=lambda e: e["url"][:80])
def test_valid_urls_parse(entry):
    parse_unguarded(odata_path(entry))


@pytest.mark.parametrize("entry", REJECTED, ids=lambda e: e["url"][:80])
def test_rejected_urls_raise_syntax_errors(entry):
    with pytest.raises(ODataSyntaxError):
        parse_unguarded(odata_path(entry))


@pytest.mark.parametrize("entry", OTHERS, ids=lambda e: e["url"][:80])
def test_other_entries_parse_or_raise_syntax_errors(entry):
    """HTTP-level cases and URLs refused later (by resolving): never a crash here."""
    try:
        parse_unguarded(odata_path(entry))
    except ODataSyntaxError:
        pass


def _client_urls() -> list[str]:
    urls: set[str] = set()
    for f in sorted(CLIENT_REQUESTS.glob("*requests.txt")):
        for line in f.read_text().splitlines():
            m = re.match(r"\s*(?:GET|POST|PATCH|PUT|DELETE|MERGE) /v[67](/\S.*?) \[", line)
            if m:
                urls.add(m.group(1))
    return sorted(urls)


CLIENT_URLS = _client_urls()


@pytest.mark.skipif(not CLIENT_URLS, reason="shared/spec/client-requests is not beside the repository")
@pytest.mark.parametrize("url", CLIENT_URLS, ids=lambda u: u[:80])
def test_recorded_client_urls_parse(url):
    parse_unguarded(url)
