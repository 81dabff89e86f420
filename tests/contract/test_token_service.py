"""The token ports' contract: `TokenIssuer` + `TokenVerifier` + `MfaTokenService`, and
`RefreshTokenGenerator`.

PyJWT is the only issuer today, once per signing algorithm; the parametrization is where
the next one goes.
"""

import functools
import re
from datetime import timedelta
from typing import Protocol
from uuid import UUID

import pytest

from adapters.crypto.key_factory import CryptographyKeyFactory
from adapters.jwt.keys import hs256_key
from adapters.jwt.refresh_tokens import OpaqueRefreshTokenGenerator
from adapters.jwt.token_service import PyJwtTokenService
from adapters.memory.clock import FixedClock
from application.errors import InvalidTokenError
from application.ports.token_service import (
    MfaTokenService,
    RefreshTokenGenerator,
    TokenIssuer,
    TokenVerifier,
)
from application.tokens.key_ring import KeyRing
from domain.tokens.signing_keys import KeyAlgorithm, SigningKey

TTL = 900
LEEWAY = 10
USER = UUID("01940000-0000-7000-8000-000000000001")
SESSION = UUID("01940000-0000-7000-8000-000000000002")


class TokenService(TokenIssuer, TokenVerifier, MfaTokenService, Protocol):
    pass


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@functools.cache
def _key(algorithm: KeyAlgorithm) -> SigningKey:
    if algorithm is KeyAlgorithm.HS256:
        return hs256_key("s" * 32)
    return CryptographyKeyFactory().generate(algorithm, now=FixedClock().now())


@pytest.fixture(params=["pyjwt-HS256", "pyjwt-RS256", "pyjwt-EdDSA"])
def tokens(request: pytest.FixtureRequest, clock: FixedClock) -> TokenService:
    algorithm = KeyAlgorithm(request.param.removeprefix("pyjwt-"))
    ring = KeyRing.static(
        [_key(algorithm)], token_lifetime=timedelta(seconds=TTL + LEEWAY), clock=clock
    )
    return PyJwtTokenService(
        keys=ring,
        algorithms=frozenset({algorithm}),
        issuer="hexahub",
        audience="hexahub-api",
        access_token_ttl_seconds=TTL,
        clock=clock,
        leeway_seconds=LEEWAY,
    )


def test_a_fresh_token_verifies_to_the_claims_it_was_issued_with(tokens: TokenService) -> None:
    issued = tokens.issue_access_token(subject=USER, session_id=SESSION)
    assert tokens.verify_access_token(issued.token) == issued.claims
    assert issued.claims.subject == USER
    assert issued.claims.session_id == SESSION


def test_issued_tokens_live_for_the_ttl_from_the_clock(
    tokens: TokenService, clock: FixedClock
) -> None:
    issued = tokens.issue_access_token(subject=USER, session_id=SESSION)
    assert tokens.access_token_ttl_seconds == TTL
    assert issued.claims.issued_at == clock.now()
    assert issued.claims.expires_at == clock.now() + timedelta(seconds=TTL)


def test_every_token_gets_its_own_id(tokens: TokenService) -> None:
    ids = {
        tokens.issue_access_token(subject=USER, session_id=SESSION).claims.token_id
        for _ in range(20)
    }
    assert len(ids) == 20


def test_a_token_is_accepted_within_the_leeway_and_refused_after(
    tokens: TokenService, clock: FixedClock
) -> None:
    issued = tokens.issue_access_token(subject=USER, session_id=SESSION)
    clock.advance(seconds=TTL + LEEWAY - 1)
    assert tokens.verify_access_token(issued.token).session_id == SESSION
    clock.advance(seconds=1)
    with pytest.raises(InvalidTokenError):
        tokens.verify_access_token(issued.token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "e30.e30.", "Bearer x.y.z"])
def test_garbage_is_an_invalid_token(tokens: TokenService, garbage: str) -> None:
    with pytest.raises(InvalidTokenError):
        tokens.verify_access_token(garbage)


@pytest.mark.parametrize("part", [0, 1, 2], ids=["header", "payload", "signature"])
def test_changing_any_part_of_a_token_invalidates_it(tokens: TokenService, part: int) -> None:
    token = tokens.issue_access_token(subject=USER, session_id=SESSION).token
    pieces = token.split(".")
    middle = len(pieces[part]) // 2
    flipped = "A" if pieces[part][middle] != "A" else "B"
    pieces[part] = pieces[part][:middle] + flipped + pieces[part][middle + 1 :]
    with pytest.raises(InvalidTokenError):
        tokens.verify_access_token(".".join(pieces))


def test_a_client_token_verifies_to_its_client_and_scope(tokens: TokenService) -> None:
    issued = tokens.issue_client_token("reporting", "users:read")
    claims = tokens.verify_access_token(issued.token)
    assert claims == issued.claims
    assert (claims.client_id, claims.scope) == ("reporting", "users:read")
    assert (claims.subject, claims.session_id) == (None, None)


def test_claims_name_their_issuer_and_audience(tokens: TokenService) -> None:
    claims = tokens.issue_access_token(subject=USER, session_id=SESSION).claims
    assert (claims.issuer, claims.audience) == ("hexahub", "hexahub-api")


def test_an_mfa_token_proves_its_user_and_nothing_else(
    tokens: TokenService, clock: FixedClock
) -> None:
    mfa = tokens.issue_mfa_token(USER, ttl_seconds=60)
    assert tokens.verify_mfa_token(mfa) == USER
    with pytest.raises(InvalidTokenError):
        tokens.verify_access_token(mfa)
    access = tokens.issue_access_token(subject=USER, session_id=SESSION).token
    with pytest.raises(InvalidTokenError):
        tokens.verify_mfa_token(access)
    clock.advance(seconds=60 + LEEWAY)
    with pytest.raises(InvalidTokenError):
        tokens.verify_mfa_token(mfa)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "e30.e30.", "Bearer x.y.z"])
def test_garbage_is_not_an_mfa_token(tokens: TokenService, garbage: str) -> None:
    with pytest.raises(InvalidTokenError):
        tokens.verify_mfa_token(garbage)


# --- refresh tokens ---------------------------------------------------------------------


@pytest.fixture(params=["opaque"])
def refresh_tokens(request: pytest.FixtureRequest) -> RefreshTokenGenerator:
    return OpaqueRefreshTokenGenerator()


def test_refresh_tokens_are_unique_prefixed_and_url_safe(
    refresh_tokens: RefreshTokenGenerator,
) -> None:
    made = {refresh_tokens.new_token() for _ in range(100)}
    assert len(made) == 100
    for token in made:
        assert re.fullmatch(r"hxr_[A-Za-z0-9_-]{43}", token)


def test_a_digest_is_a_stable_one_way_storage_key(refresh_tokens: RefreshTokenGenerator) -> None:
    token = refresh_tokens.new_token()
    other = refresh_tokens.new_token()
    digest = refresh_tokens.digest(token)
    assert refresh_tokens.digest(token) == digest
    assert refresh_tokens.digest(other) != digest
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert token.removeprefix("hxr_") not in digest


def test_any_presented_string_can_be_digested(refresh_tokens: RefreshTokenGenerator) -> None:
    # Clients send arbitrary strings; looking one up must never crash.
    for presented in ["", "x", "\ud800", "hxr_" + "a" * 10_000]:
        assert len(refresh_tokens.digest(presented)) == 64
