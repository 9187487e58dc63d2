"""One canonical text per address, so that every comparison (township shard, ad-hoc allow-lists,
inventory addresses) sees the same string however a caller spelt it.

``::ffff:127.16.0.86`` (IPv4-mapped IPv6) and ``::ffff:7f10:56`` are the IPv4 address
127.16.0.86: they reach the same host through a dual-stack socket, so they must compare equal to it.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: str) -> IPAddress:
    """The address, IPv4-mapped IPv6 folded to IPv4; ValueError if text is not an IP address."""
    addr = ipaddress.ip_address(text.strip())
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return addr.ipv4_mapped
        if addr.scope_id is not None:  # fe80::1%eth0: the zone never matches an inventory address
            raise ValueError(f"{text!r}: zoned IPv6 addresses are not probe targets")
    return addr


def canonical_ip(text: str) -> str:
    """The canonical text of an IP address (see parse_ip); ValueError if it is not one."""
    return str(parse_ip(text))
