"""PyJwtTokenService: the token's shape, and the RFC 8725 attacks it must refuse."""

import base64
import hashlib
import hmac
import json
from typing import Any
from uuid import UUID

import jwt
import pytest

from adapters.jwt.keys import Hs256SigningKey
from adapters.jwt.token_service import PyJwtTokenService
from adapters.memory.clock import FixedClock
from adapters.memory.id_generator import SequentialIdGenerator
from application.errors import InvalidTokenError

SECRET = "k" * 32
ISSUER = "hexahub"
AUDIENCE = "hexahub-api"
TTL = 600
LEEWAY = 10
USER = UUID("01940000-0000-7000-8000-0000000000aa")
SESSION = UUID("01940000-0000-7000-8000-0000000000bb")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def service(clock: FixedClock) -> PyJwtTokenService:
    return PyJwtTokenService(
        secret=SECRET,
        issuer=ISSUER,
        audience=AUDIENCE,
        access_token_ttl_seconds=TTL,
        clock=clock,
        leeway_seconds=LEEWAY,
    )


def claims(clock: FixedClock, **changes: Any) -> dict[str, Any]:
    """A valid payload for `clock`'s now; `changes` override, None deletes a claim."""
    now = int(clock.now().timestamp())
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "sub": str(USER),
        "aud": AUDIENCE,
        "exp": now + TTL,
        "iat": now,
        "nbf": now,
        "jti": "token-1",
        "sid": str(SESSION),
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def forge(payload: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
    """Sign by hand: PyJWT's encoder refuses some of the malformed claims tested here."""
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[algorithm]
    signing_input = b64({"alg": algorithm, "typ": "JWT"}) + "." + b64(payload)
    signature = hmac.new(key.encode(), signing_input.encode(), digest).digest()
    return signing_input + "." + _b64(signature)


def b64(data: dict[str, Any]) -> str:
    return _b64(json.dumps(data).encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_correctly_forged_token_is_accepted(
    service: PyJwtTokenService, clock: FixedClock
) -> None:
    # Guards the negatives below: each differs from this one in one respect only.
    assert service.verify_access_token(forge(claims(clock))).subject == USER


def test_the_token_carries_the_agreed_header_and_claims(
    service: PyJwtTokenService, clock: FixedClock
) -> None:
    issued = service.issue_access_token(subject=USER, session_id=SESSION)
    assert jwt.get_unverified_header(issued.token) == {"alg": "HS256", "typ": "JWT"}
    payload = jwt.decode(
        issued.token, SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )  # fmt: skip
    now = int(clock.now().timestamp())
    assert payload == {
        "iss": ISSUER,
        "sub": str(USER),
        "aud": AUDIENCE,
        "exp": now + TTL,
        "iat": now,
        "nbf": now,
        "jti": issued.claims.token_id,
        "sid": str(SESSION),
    }


def test_jti_comes_from_the_id_generator_when_given(clock: FixedClock) -> None:
    ids = SequentialIdGenerator()
    service = PyJwtTokenService(
        secret=SECRET, issuer=ISSUER, audience=AUDIENCE, access_token_ttl_seconds=TTL,
        clock=clock, id_generator=ids,
    )  # fmt: skip
    expected = SequentialIdGenerator().new_id()
    assert service.issue_access_token(subject=USER, session_id=SESSION).claims.token_id == str(
        expected
    )


def test_secrets_shorter_than_32_bytes_are_refused(clock: FixedClock) -> None:
    shorts: list[str | bytes] = ["k" * 31, b"k" * 31, "é" * 15]  # "é" is 2 bytes: 30 bytes
    for short in shorts:
        with pytest.raises(ValueError, match="32 bytes"):
            PyJwtTokenService(
                secret=short, issuer=ISSUER, audience=AUDIENCE, access_token_ttl_seconds=TTL,
                clock=clock,
            )  # fmt: skip
    PyJwtTokenService(
        secret="é" * 16, issuer=ISSUER, audience=AUDIENCE, access_token_ttl_seconds=TTL,
        clock=clock,
    )  # fmt: skip


def test_the_secret_never_shows_in_a_repr() -> None:
    assert SECRET not in repr(Hs256SigningKey(SECRET))


# --- RFC 8725 negatives: every one is InvalidTokenError ---------------------------------


def test_alg_none_is_refused(service: PyJwtTokenService, clock: FixedClock) -> None:
    unsigned = b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims(clock)) + "."
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(unsigned)


def test_alg_none_from_pyjwt_is_refused(service: PyJwtTokenService, clock: FixedClock) -> None:
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(jwt.encode(claims(clock), None, algorithm="none"))


def test_another_hmac_algorithm_with_the_same_secret_is_refused(
    service: PyJwtTokenService, clock: FixedClock
) -> None:
    # The algorithm is pinned by configuration, not read from the header.
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(forge(claims(clock), algorithm="HS512"))


def test_a_token_signed_with_another_secret_is_refused(
    service: PyJwtTokenService, clock: FixedClock
) -> None:
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(forge(claims(clock), key="x" * 32))


def test_a_tampered_payload_is_refused(service: PyJwtTokenService, clock: FixedClock) -> None:
    header, _, signature = service.issue_access_token(subject=USER, session_id=SESSION).token.split(
        "."
    )
    other_user = claims(clock, sub="01940000-0000-7000-8000-0000000000cc")
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(f"{header}.{b64(other_user)}.{signature}")


@pytest.mark.parametrize("aud", ["other-api", "", [AUDIENCE], [AUDIENCE, "other-api"]], ids=repr)
def test_a_wrong_audience_is_refused(
    service: PyJwtTokenService, clock: FixedClock, aud: object
) -> None:
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(forge(claims(clock, aud=aud)))


@pytest.mark.parametrize("iss", ["someone-else", "HEXAHUB", ["hexahub"]], ids=repr)
def test_a_wrong_issuer_is_refused(
    service: PyJwtTokenService, clock: FixedClock, iss: object
) -> None:
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(forge(claims(clock, iss=iss)))


def test_a_token_expired_by_the_clock_is_refused(
    service: PyJwtTokenService, clock: FixedClock
) -> None:
    token = service.issue_access_token(subject=USER, session_id=SESSION).token
    clock.advance(seconds=TTL + LEEWAY)
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(token)


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_token_from_the_future_is_refused(
    service: PyJwtTokenService, clock: FixedClock, claim: str
) -> None:
    now = int(clock.now().timestamp())
    within = forge(claims(clock, **{claim: now + LEEWAY}))
    beyond = forge(claims(clock, **{claim: now + LEEWAY + 1}))
    assert service.verify_access_token(within).subject == USER  # clock skew tolerated
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(beyond)


@pytest.mark.parametrize("missing", ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid"])
def test_a_token_missing_any_claim_is_refused(
    service: PyJwtTokenService, clock: FixedClock, missing: str
) -> None:
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(forge(claims(clock, **{missing: None})))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("sub", "42"),
        ("sub", 42),
        ("sid", "not-a-uuid"),
        ("sid", "{" + str(SESSION) + "}"),  # UUID() would take it; we issue canonical only
        ("sub", str(USER).upper()),
        ("jti", 7),
        ("jti", ""),
        ("exp", "9999999999"),
        ("exp", 1e20),
        ("exp", True),
        ("iat", "yesterday"),
    ],
    ids=repr,
)
def test_a_claim_of_the_wrong_shape_is_refused(
    service: PyJwtTokenService, clock: FixedClock, claim: str, value: object
) -> None:
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(forge(claims(clock, **{claim: value})))


def test_a_huge_exp_is_refused_not_crashed(service: PyJwtTokenService, clock: FixedClock) -> None:
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(forge(claims(clock, exp=10**20)))
