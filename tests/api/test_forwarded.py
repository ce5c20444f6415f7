"""The client's address behind trusted reverse proxies (api/forwarded.py); the login
throttle counting per real client behind one is in tests/auth/test_sessions.py."""

from __future__ import annotations

import pytest

from fleetyard.api.forwarded import client_address, networks

PROXIES = networks("10.0.0.1, 192.168.0.0/16, ::1")


@pytest.mark.parametrize(("peer", "header", "expected"), [
    ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not a proxy of ours: its header means nothing
    ("10.0.0.1", "198.51.100.1", "198.51.100.1"),  # one proxy
    ("10.0.0.1", "198.51.100.1, 192.168.3.4", "198.51.100.1"),  # two proxies
    ("10.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # what the client wrote itself is ignored
    ("10.0.0.1", "garbage, 198.51.100.1", "198.51.100.1"),
    ("10.0.0.1", "198.51.100.1, garbage", "10.0.0.1"),  # not a proxy's writing: stop there
    ("10.0.0.1", "192.168.0.9", "192.168.0.9"),  # only proxies: the farthest
    ("10.0.0.1", None, "10.0.0.1"),
    ("::1", "2001:db8::5", "2001:db8::5"),
    (None, "198.51.100.1", "?"),
])
def test_client_address(peer, header, expected):
    assert client_address(peer, header, PROXIES) == expected


def test_no_trusted_proxies_means_the_peer():
    assert client_address("10.0.0.1", "198.51.100.1", networks("")) == "10.0.0.1"


def test_a_wrong_entry_is_named():
    with pytest.raises(ValueError, match="'10.0.0.300'"):
        networks("10.0.0.1, 10.0.0.300")
