"""The address a request came from, when fleetyard sits behind reverse proxies.

HTTP stage. Behind a proxy (the usual way to add TLS) every request comes from the
proxy's address, so the login throttle's per-address limit would count everyone's
failures together. FLEETYARD_TRUSTED_PROXIES names the proxies (addresses or networks,
comma-separated); a request from one of them is from the last address before them in its
`X-Forwarded-For`, read from the right, since a client can write anything on the left.
A request from anywhere else is from its peer, whatever headers it sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(spec: str | None) -> tuple[Network, ...]:
    """`10.0.0.1, 192.168.0.0/16, ::1` as networks; a wrong entry is a ValueError naming it."""
    out = []
    for entry in (spec or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            out.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"FLEETYARD_TRUSTED_PROXIES: {entry!r} is not an address or a network") from None
    return tuple(out)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    if peer is None:
        return "?"
    if not trusted or not forwarded_for or not _within(peer, trusted):
        return peer
    address = peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # not written by a proxy of ours: stop at the last hop that was
        address = hop
        if not _within(hop, trusted):
            break
    return address


def _within(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)
