"""The `TotpEngine` contract: RFC 6238 codes (checked against the RFC's own test vectors),
a window of one step either side, well-formed seeds and URIs, and a QR code that is a
standalone SVG with nothing to fetch."""

import base64
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from adapters.totp.totp_engine import PyotpTotpEngine
from application.ports.totp import TotpEngine

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII "12345678901234567890". Our codes
# have 6 digits, which are the last 6 of the RFC's 8 (the truncation is mod 10^digits).
RFC_SEED = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "287082"),
    (1111111109, "081804"),
    (1111111111, "050471"),
    (1234567890, "005924"),
    (2000000000, "279037"),
    (20000000000, "353130"),
]


@pytest.fixture(params=["pyotp"])
def engine(request: pytest.FixtureRequest) -> TotpEngine:
    return PyotpTotpEngine()


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(("seconds", "code"), RFC_VECTORS)
def test_the_rfc_6238_vectors_verify_at_their_time_step(
    engine: TotpEngine, seconds: int, code: str
) -> None:
    assert engine.verify(RFC_SEED, code, at(seconds)) == seconds // 30


@pytest.mark.parametrize("drift", [-30, 30])
def test_a_code_from_one_step_either_side_is_accepted_with_its_own_step(
    engine: TotpEngine, drift: int
) -> None:
    seconds, code = RFC_VECTORS[3]
    assert engine.verify(RFC_SEED, code, at(seconds + drift)) == seconds // 30


@pytest.mark.parametrize("drift", [-61, 60, 3600])
def test_a_code_two_steps_away_or_more_is_refused(engine: TotpEngine, drift: int) -> None:
    seconds, code = RFC_VECTORS[3]
    assert engine.verify(RFC_SEED, code, at(seconds + drift)) is None


FULLWIDTH = "\uff10\uff10\uff15\uff19\uff12\uff14"  # "005924" in fullwidth digits


@pytest.mark.parametrize(
    "code", ["", "005 924", "05924", "0059240", "00592a", FULLWIDTH, "-05924", "5924.0"]
)
def test_anything_but_six_ascii_digits_is_refused(engine: TotpEngine, code: str) -> None:
    assert engine.verify(RFC_SEED, code, at(1234567890)) is None


def test_a_code_for_another_seed_is_refused(engine: TotpEngine) -> None:
    other = engine.new_secret()
    seconds, code = RFC_VECTORS[3]
    assert engine.verify(other, code, at(seconds)) is None


def test_seeds_are_fresh_base32_of_at_least_160_bits(engine: TotpEngine) -> None:
    seeds = {engine.new_secret() for _ in range(50)}
    assert len(seeds) == 50
    for seed in seeds:
        assert len(base64.b32decode(seed + "=" * (-len(seed) % 8))) >= 20


def test_the_provisioning_uri_names_the_account_issuer_and_seed(engine: TotpEngine) -> None:
    seed = engine.new_secret()

    uri = engine.provisioning_uri(seed, "ada@example.com", "Hexa Hub")

    parsed = urlparse(uri)
    assert (parsed.scheme, parsed.netloc) == ("otpauth", "totp")
    assert unquote(parsed.path) == "/Hexa Hub:ada@example.com"
    query = parse_qs(parsed.query)
    assert query["secret"] == [seed]
    assert query["issuer"] == ["Hexa Hub"]
    # Defaults (SHA1, 6 digits, 30 s) may be left out; if present they must say so.
    assert query.get("digits", ["6"]) == ["6"]
    assert query.get("period", ["30"]) == ["30"]
    assert query.get("algorithm", ["SHA1"]) == ["SHA1"]


def test_the_qr_code_is_a_standalone_svg_with_nothing_to_fetch(engine: TotpEngine) -> None:
    uri = engine.provisioning_uri(engine.new_secret(), "ada@example.com", "HexaHub")

    svg = engine.qr_svg(uri)

    assert isinstance(svg, str)
    root = ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check its shape
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    lowered = svg.lower()
    for external in ("href", "<script", "<image", "<foreignobject", "url(", "@import"):
        assert external not in lowered
    assert "http" not in lowered.replace("http://www.w3.org/2000/svg", "")


def test_a_bigger_payload_makes_a_bigger_qr_code(engine: TotpEngine) -> None:
    small = ET.fromstring(engine.qr_svg("otpauth://totp/a"))  # noqa: S314
    large = ET.fromstring(engine.qr_svg("otpauth://totp/" + "a" * 200))  # noqa: S314
    assert int(large.attrib["width"]) > int(small.attrib["width"])
