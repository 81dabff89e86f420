"""The client's IP address, believing X-Forwarded-For only as far as trusted proxies go.

Anyone can send X-Forwarded-For, so its leftmost entry is whatever the client wants
(rate limits and audit logs keyed on it would be trivially dodged). Each proxy appends the
peer it saw, so reading from the right and stopping at the first hop that is not one of
ours gives the last address a trusted proxy vouched for (MDN, "X-Forwarded-For: Selecting
an IP address"; OWASP, "Logging Cheat Sheet", on spoofable client IPs).
"""

import functools
import ipaddress
from collections.abc import Sequence

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Sequence[str]) -> list[IPNetwork]:
    """`"10.0.0.1"`, `"10.0.0.0/8"`, `"::1"`, `"fd00::/8"` → networks (a bare IP is a /32
    or /128). Raises ValueError naming the first bad value; host bits set under the mask
    (`10.0.0.1/8`) count as bad, since trusting a wider range than written is worse than
    refusing to start."""
    networks: list[IPNetwork] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip()))
        except ValueError as error:
            raise ValueError(f"not an IP address or network: {value!r} ({error})") from None
    return networks


def client_address(
    scope_client_host: str | None,
    forwarded_for: str | None,
    trusted_proxies: Sequence[IPNetwork],
) -> str | None:
    """The socket peer, or, when the peer is a trusted proxy, the hop X-Forwarded-For names.

    Walks `forwarded_for` (all X-Forwarded-For headers joined with "," in order) from the
    right, skipping trusted proxies, and returns the first untrusted address. An entry
    that is not an IP (`unknown`, garbage) ends the walk with the peer: nothing left of it
    can be vouched for. When every entry is a trusted proxy, the leftmost one is the
    client. Always a normalized IP (IPv4-mapped IPv6 as IPv4) or None when the peer is
    not an IP (a Unix socket, a test client).
    """
    if not forwarded_for:  # the common case, answered from a cache
        return _address_of(scope_client_host)
    peer = _parse(scope_client_host)
    if peer is None or not _trusted(peer, trusted_proxies):
        return str(peer) if peer is not None else None
    hops = [entry.strip() for entry in forwarded_for.split(",")]
    for entry in reversed(hops):
        hop = _parse(entry)
        if hop is None:
            return str(peer)
        if not _trusted(hop, trusted_proxies):
            return str(hop)
    # Every hop is ours (the request came from inside): the leftmost is the client.
    first = _parse(hops[0])
    return str(first if first is not None else peer)


@functools.lru_cache(maxsize=4096)  # every request asks: the same few peers, mostly
def _address_of(peer: str | None) -> str | None:
    parsed = _parse(peer)
    return str(parsed) if parsed is not None else None


def _parse(value: str | None) -> IPAddress | None:
    """An IP from a peer or an X-Forwarded-For entry, also as `1.2.3.4:80` or `[v6]:80`
    (some proxies append the port)."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("["):
        value, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not _is_port(rest)):
            return None
    elif value.count(":") == 1:
        value, _, port = value.partition(":")
        if not _is_port(":" + port):
            return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id:  # fe80::1%eth0: a zone means nothing off this machine
            return ipaddress.IPv6Address(value.split("%", 1)[0])
    return address


def _is_port(rest: str) -> bool:
    return len(rest) > 1 and rest[0] == ":" and rest[1:].isascii() and rest[1:].isdigit()


def _trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in networks)
