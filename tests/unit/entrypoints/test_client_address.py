"""client_address: trust X-Forwarded-For only as far as our own proxies."""

import ipaddress

import pytest

from entrypoints.http.client_address import client_address, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8", "192.0.2.7"])


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("203.0.113.5", "198.51.100.1", []) == "203.0.113.5"


def test_an_untrusted_peer_cannot_claim_another_address() -> None:
    assert client_address("203.0.113.5", "198.51.100.1", PROXIES) == "203.0.113.5"


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client() -> None:
    assert client_address("10.0.0.2", "198.51.100.1", PROXIES) == "198.51.100.1"


def test_the_walk_skips_trusted_hops_and_stops_at_the_first_untrusted_one() -> None:
    # The client forged the leftmost entry; our edge proxy saw 198.51.100.1.
    forwarded = "6.6.6.6, 198.51.100.1, 10.1.2.3, 192.0.2.7"
    assert client_address("10.0.0.2", forwarded, PROXIES) == "198.51.100.1"


def test_several_headers_joined_read_as_one_list() -> None:
    assert client_address("10.0.0.2", "6.6.6.6,198.51.100.1,10.9.9.9", PROXIES) == ("198.51.100.1")


@pytest.mark.parametrize("garbage", ["unknown", "not-an-ip", "", "1.2.3.4.5", "_hidden"])
def test_an_invalid_entry_falls_back_to_the_peer(garbage: str) -> None:
    assert client_address("10.0.0.2", f"198.51.100.1, {garbage}", PROXIES) == "10.0.0.2"


def test_an_invalid_entry_left_of_an_untrusted_one_is_never_reached() -> None:
    assert client_address("10.0.0.2", "unknown, 198.51.100.1", PROXIES) == "198.51.100.1"


def test_when_every_hop_is_trusted_the_leftmost_is_the_client() -> None:
    assert client_address("10.0.0.2", "10.5.5.5, 10.0.0.9", PROXIES) == "10.5.5.5"


@pytest.mark.parametrize("header", [None, ""])
def test_a_trusted_peer_without_the_header_is_the_client(header: str | None) -> None:
    assert client_address("10.0.0.2", header, PROXIES) == "10.0.0.2"


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("::ffff:203.0.113.5", None, "203.0.113.5"),  # IPv4-mapped, as dual-stack sockets see it
        ("::ffff:10.0.0.2", "198.51.100.1", "198.51.100.1"),  # mapped, yet trusted
        ("fd00::1", "2001:DB8:0:0::1", "2001:db8::1"),  # compressed, lower case
        ("10.0.0.2", "198.51.100.1:4711", "198.51.100.1"),  # a port some proxies add
        ("10.0.0.2", "[2001:db8::1]:4711", "2001:db8::1"),
        ("10.0.0.2", " 198.51.100.1 ", "198.51.100.1"),
        ("fe80::1%eth0", None, "fe80::1"),  # a zone means nothing elsewhere
    ],
)
def test_addresses_come_back_normalized(peer: str, forwarded: str | None, expected: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


@pytest.mark.parametrize("forwarded", ["198.51.100.1:port", "[2001:db8::1", "[::1]x"])
def test_malformed_ports_or_brackets_are_invalid(forwarded: str) -> None:
    assert client_address("10.0.0.2", forwarded, PROXIES) == "10.0.0.2"


@pytest.mark.parametrize("peer", [None, "", "testclient", "/run/hexahub.sock"])
def test_a_peer_that_is_no_ip_gives_none(peer: str | None) -> None:
    assert client_address(peer, "198.51.100.1", PROXIES) is None


def test_parse_networks_accepts_addresses_and_cidrs() -> None:
    assert parse_networks(["10.0.0.0/8", " 192.0.2.7 ", "::1", "fd00::/8"]) == [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.7/32"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("fd00::/8"),
    ]
    assert parse_networks([]) == []


@pytest.mark.parametrize("value", ["10.0.0.1/8", "example.com", "", "10.0.0.0/33", "*"])
def test_parse_networks_names_the_bad_value(value: str) -> None:
    with pytest.raises(ValueError, match="not an IP address or network"):
        parse_networks(["10.0.0.0/8", value])


def test_an_ipv4_peer_is_never_matched_against_ipv6_networks() -> None:
    assert client_address("10.0.0.2", "198.51.100.1", parse_networks(["::/0"])) == "10.0.0.2"
