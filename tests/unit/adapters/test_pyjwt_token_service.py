"""PyJwtTokenService: the tokens' shape, the RFC 8725 attacks it must refuse (for HS256,
RS256 and EdDSA alike), MFA tokens, and key rotation through a stored key ring."""

import base64
import dataclasses
import functools
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from adapters.crypto.key_factory import CryptographyKeyFactory, signing_key_from_private_key
from adapters.jwt.keys import PreparedKey, hs256_key, prepare
from adapters.jwt.token_service import PyJwtTokenService
from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.clock import FixedClock
from adapters.memory.id_generator import SequentialIdGenerator
from application.errors import InvalidTokenError
from application.tokens.key_ring import KeyRing, SigningKeyUnavailableError
from domain.tokens.signing_keys import KeyAlgorithm, SigningKey
from tests.eventful import units_of_work

SECRET = "k" * 32
ISSUER = "hexahub"
AUDIENCE = "hexahub-api"
MFA_AUDIENCE = "hexahub-api#mfa"
TTL = 600
LEEWAY = 10
LIFETIME = timedelta(seconds=TTL + LEEWAY)
USER = UUID("01940000-0000-7000-8000-0000000000aa")
SESSION = UUID("01940000-0000-7000-8000-0000000000bb")
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
HS256, RS256, EDDSA = KeyAlgorithm.HS256, KeyAlgorithm.RS256, KeyAlgorithm.EDDSA
ALGORITHMS = [HS256, RS256, EDDSA]


@functools.cache
def signing_key(algorithm: KeyAlgorithm, name: str = "main") -> SigningKey:
    """One key per algorithm (and name) for the whole module: RSA generation is slow."""
    if algorithm is HS256:
        return hs256_key(SECRET if name == "main" else name * 32, created_at=EPOCH)
    return CryptographyKeyFactory().generate(algorithm, now=EPOCH)


def static_ring(clock: FixedClock, *keys: SigningKey) -> KeyRing:
    """The test helper for the new constructor: a ring of fixed keys (the first signs
    if they share a creation time, since `max` keeps the first)."""
    return KeyRing.static(keys, token_lifetime=LIFETIME, clock=clock)


def make_service(
    ring: KeyRing, clock: FixedClock, algorithms: set[KeyAlgorithm] | None = None, **kw: Any
) -> PyJwtTokenService:
    return PyJwtTokenService(
        keys=ring,
        algorithms=frozenset(algorithms or {ring.signing_algorithm}),
        issuer=ISSUER,
        audience=AUDIENCE,
        access_token_ttl_seconds=TTL,
        clock=clock,
        leeway_seconds=LEEWAY,
        **kw,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(params=ALGORITHMS, ids=str)
def key(request: pytest.FixtureRequest) -> SigningKey:
    return signing_key(request.param)


@pytest.fixture
def service(key: SigningKey, clock: FixedClock) -> PyJwtTokenService:
    return make_service(static_ring(clock, key), clock)


def claims(clock: FixedClock, **changes: Any) -> dict[str, Any]:
    """A valid user-token payload for `clock`'s now; `changes` override, None deletes."""
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


def forge(payload: dict[str, Any], key: SigningKey, **header: Any) -> str:
    """Sign by hand, so malformed claims and headers get through PyJWT's encoder. The
    header defaults to what the service issues; `header` overrides, None deletes."""
    fields = {"alg": str(key.algorithm), "typ": "at+jwt", "kid": key.kid, **header}
    signing_input = b64({k: v for k, v in fields.items() if v is not None}) + "." + b64(payload)
    algorithm = jwt.get_algorithm_by_name(str(key.algorithm))
    signature = algorithm.sign(signing_input.encode(), prepare(key).signing)
    return signing_input + "." + _b64(signature)


def hmac_forge(payload: dict[str, Any], secret: bytes, **header: Any) -> str:
    fields = {"alg": "HS256", "typ": "at+jwt", **header}
    signing_input = b64(fields) + "." + b64(payload)
    return signing_input + "." + _b64(hmac.new(secret, signing_input.encode(), "sha256").digest())


def b64(data: dict[str, Any]) -> str:
    return _b64(json.dumps(data).encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_pem(key: SigningKey) -> bytes:
    public = prepare(key).verifying
    return bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def unverified(token: str, key: SigningKey) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(
        token, prepare(key).verifying, algorithms=[str(key.algorithm)],
        options={"verify_aud": False, "verify_exp": False, "verify_iat": False,
                 "verify_nbf": False},
    )  # fmt: skip
    return payload


def refused(service: PyJwtTokenService, token: str) -> bool:
    with pytest.raises(InvalidTokenError):
        service.verify_access_token(token)
    return True


# --- shape ----------------------------------------------------------------------------------


def test_a_correctly_forged_token_is_accepted(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    # Guards the negatives below: each differs from this one in one respect only.
    assert service.verify_access_token(forge(claims(clock), key)).subject == USER


def test_a_user_token_carries_kid_typ_and_the_agreed_claims(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    issued = service.issue_access_token(subject=USER, session_id=SESSION)
    assert jwt.get_unverified_header(issued.token) == {
        "alg": str(key.algorithm),
        "typ": "at+jwt",
        "kid": key.kid,
    }
    now = int(clock.now().timestamp())
    assert unverified(issued.token, key) == {
        "iss": ISSUER,
        "sub": str(USER),
        "aud": AUDIENCE,
        "exp": now + TTL,
        "iat": now,
        "nbf": now,
        "jti": issued.claims.token_id,
        "sid": str(SESSION),
    }
    assert issued.claims.client_id is None
    assert issued.claims.scope is None
    assert (issued.claims.issuer, issued.claims.audience) == (ISSUER, AUDIENCE)
    assert service.verify_access_token(issued.token) == issued.claims


def test_a_client_token_names_the_client_and_has_no_session(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    issued = service.issue_client_token("billing-worker", "users:read roles:read")
    assert jwt.get_unverified_header(issued.token)["typ"] == "at+jwt"
    payload = unverified(issued.token, key)
    assert payload["sub"] == payload["client_id"] == "billing-worker"
    assert payload["scope"] == "users:read roles:read"
    assert "sid" not in payload
    verified = service.verify_access_token(issued.token)
    assert verified == issued.claims
    assert (verified.subject, verified.session_id) == (None, None)
    assert (verified.client_id, verified.scope) == ("billing-worker", "users:read roles:read")


def test_jti_comes_from_the_id_generator_when_given(clock: FixedClock) -> None:
    service = make_service(
        static_ring(clock, signing_key(HS256)), clock, id_generator=SequentialIdGenerator()
    )
    expected = str(SequentialIdGenerator().new_id())
    assert service.issue_access_token(subject=USER, session_id=SESSION).claims.token_id == expected


def test_hs256_secrets_shorter_than_32_bytes_are_refused() -> None:
    shorts: list[str | bytes] = ["k" * 31, b"k" * 31, "é" * 15]  # "é" is 2 bytes: 30 bytes
    for short in shorts:
        with pytest.raises(ValueError, match="32 bytes"):
            hs256_key(short)
    hs256_key("é" * 16)


def test_the_hs256_kid_is_stable_per_secret_and_reveals_nothing() -> None:
    assert hs256_key(SECRET).kid == hs256_key(SECRET.encode()).kid
    assert hs256_key(SECRET).kid != hs256_key("j" * 32).kid
    assert SECRET not in hs256_key(SECRET).kid


def test_prepared_keys_never_show_in_a_repr() -> None:
    assert SECRET not in repr(prepare(hs256_key(SECRET)))
    assert repr(prepare(signing_key(RS256))) == repr(PreparedKey(signing=1, verifying=2))


def test_the_secret_never_shows_in_a_signing_key_repr() -> None:
    assert SECRET not in repr(hs256_key(SECRET))


def test_construction_is_checked(clock: FixedClock) -> None:
    ring = static_ring(clock, signing_key(RS256))
    with pytest.raises(ValueError, match="not among the accepted"):
        make_service(ring, clock, {EDDSA})
    with pytest.raises(ValueError, match="at least one algorithm"):
        PyJwtTokenService(
            keys=ring, algorithms=frozenset(), issuer=ISSUER, audience=AUDIENCE,
            access_token_ttl_seconds=TTL, clock=clock,
        )  # fmt: skip
    with pytest.raises(ValueError, match="audience of their own"):
        make_service(ring, clock, mfa_audience=AUDIENCE)
    short_lived = KeyRing.static(
        [signing_key(RS256)], token_lifetime=LIFETIME - timedelta(seconds=1), clock=clock
    )
    with pytest.raises(ValueError, match="retired keys"):
        make_service(short_lived, clock)


def test_issuing_without_a_loaded_key_is_service_unavailable(clock: FixedClock) -> None:
    store = InMemoryStore()
    ring = KeyRing.stored(
        uow_factory=units_of_work(lambda: InMemoryUnitOfWork(store)),
            key_factory=CryptographyKeyFactory(),
        signing_algorithm=EDDSA, token_lifetime=LIFETIME, clock=clock,
    )  # fmt: skip
    service = make_service(ring, clock)
    with pytest.raises(SigningKeyUnavailableError):
        service.issue_access_token(subject=USER, session_id=SESSION)


# --- RFC 8725 negatives, for every algorithm: each is InvalidTokenError ---------------------


def test_alg_none_is_refused(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    header = {"alg": "none", "typ": "at+jwt", "kid": key.kid}
    assert refused(service, b64(header) + "." + b64(claims(clock)) + ".")
    pyjwt_none = jwt.encode(claims(clock), None, algorithm="none", headers={"kid": key.kid})
    assert refused(service, pyjwt_none)


@pytest.mark.parametrize("asymmetric", [RS256, EDDSA], ids=str)
@pytest.mark.parametrize("both_accepted", [False, True], ids=["pinned-alone", "hs256-too"])
def test_an_hs256_token_keyed_with_the_public_key_is_refused(
    clock: FixedClock, asymmetric: KeyAlgorithm, both_accepted: bool
) -> None:
    # The classic algorithm confusion: the public key (which the JWKS publishes) used as
    # an HMAC secret. Refused even when HS256 is an accepted algorithm, because the kid
    # names an asymmetric key and the header's alg must be that key's own.
    key = signing_key(asymmetric)
    ring = static_ring(clock, key, signing_key(HS256))
    service = make_service(ring, clock, {asymmetric, HS256} if both_accepted else {asymmetric})
    assert refused(service, hmac_forge(claims(clock), public_pem(key), kid=key.kid))
    jwk_json = json.dumps(ring.jwks(clock.now())[0]).encode()
    assert refused(service, hmac_forge(claims(clock), jwk_json, kid=key.kid))


@pytest.mark.parametrize(
    ("algorithm", "other"), [(HS256, "HS512"), (RS256, "RS512"), (RS256, "PS256")], ids=str
)
def test_another_algorithm_with_the_same_key_is_refused(
    clock: FixedClock, algorithm: KeyAlgorithm, other: str
) -> None:
    key = signing_key(algorithm)
    service = make_service(static_ring(clock, key), clock)
    header = {"alg": other, "typ": "at+jwt", "kid": key.kid}
    signing_input = b64(header) + "." + b64(claims(clock))
    signature = jwt.get_algorithm_by_name(other).sign(signing_input.encode(), prepare(key).signing)
    assert refused(service, signing_input + "." + _b64(signature))


def test_a_key_whose_algorithm_is_not_accepted_is_refused(clock: FixedClock) -> None:
    rs, ed = signing_key(RS256), signing_key(EDDSA)
    older_ed = dataclasses.replace(ed, created_at=EPOCH - timedelta(days=1))
    ring = KeyRing.static([rs, older_ed], token_lifetime=LIFETIME, clock=clock)
    assert ring.signing_key().kid == rs.kid
    token = forge(claims(clock), ed)
    assert refused(make_service(ring, clock, {RS256}), token)
    assert make_service(ring, clock, {RS256, EDDSA}).verify_access_token(token).subject == USER


def test_a_token_signed_with_another_key_under_our_kid_is_refused(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    impostor = signing_key(key.algorithm, "x")
    assert refused(service, forge(claims(clock), impostor, kid=key.kid))


def test_an_embedded_jwk_is_never_trusted(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    # RFC 8725 §3.10-ish: keys come from our ring, never from the token (jwk/jku/x5u).
    theirs = signing_key_from_private_key(ed25519.Ed25519PrivateKey.generate(), created_at=EPOCH)
    assert refused(service, forge(claims(clock), theirs, jwk=theirs.public_jwk))
    assert refused(service, forge(claims(clock), theirs, jwk=theirs.public_jwk, kid=key.kid))


@pytest.mark.parametrize("kid", [None, "", "unknown", 7, ["x"]], ids=repr)
def test_a_missing_or_unknown_kid_is_refused(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock, kid: object
) -> None:
    assert refused(service, forge(claims(clock), key, kid=kid))


@pytest.mark.parametrize("typ", [None, "JWT", "mfa+jwt", "jwt", "at+JWT+x", 1], ids=repr)
def test_a_token_of_another_type_is_refused(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock, typ: object
) -> None:
    # RFC 9068 §4 and RFC 8725 §3.11; the pre-rotation "JWT" tokens included.
    assert refused(service, forge(claims(clock), key, typ=typ))


@pytest.mark.parametrize("typ", ["application/at+jwt", "AT+JWT"])
def test_the_access_token_type_is_matched_as_a_media_type(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock, typ: str
) -> None:
    assert service.verify_access_token(forge(claims(clock), key, typ=typ)).subject == USER


def test_a_critical_header_extension_is_refused(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    # RFC 7515 §4.1.11: we understand no extension, so any `crit` is a refusal.
    assert refused(service, forge(claims(clock), key, crit=["exp"], exp=1))


def test_a_tampered_payload_is_refused(service: PyJwtTokenService, clock: FixedClock) -> None:
    header, _, signature = service.issue_access_token(subject=USER, session_id=SESSION).token.split(
        "."
    )
    other_user = claims(clock, sub="01940000-0000-7000-8000-0000000000cc")
    assert refused(service, f"{header}.{b64(other_user)}.{signature}")


@pytest.mark.parametrize(
    "aud", ["other-api", "", [AUDIENCE], [AUDIENCE, "other-api"], MFA_AUDIENCE], ids=repr
)
def test_a_wrong_audience_is_refused(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock, aud: object
) -> None:
    assert refused(service, forge(claims(clock, aud=aud), key))


@pytest.mark.parametrize("iss", ["someone-else", "HEXAHUB", ["hexahub"]], ids=repr)
def test_a_wrong_issuer_is_refused(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock, iss: object
) -> None:
    assert refused(service, forge(claims(clock, iss=iss), key))


def test_a_token_expired_by_the_clock_is_refused(
    service: PyJwtTokenService, clock: FixedClock
) -> None:
    token = service.issue_access_token(subject=USER, session_id=SESSION).token
    clock.advance(seconds=TTL + LEEWAY - 1)
    assert service.verify_access_token(token).subject == USER
    clock.advance(seconds=1)
    assert refused(service, token)


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_a_token_from_the_future_is_refused(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock, claim: str
) -> None:
    now = int(clock.now().timestamp())
    within = forge(claims(clock, **{claim: now + LEEWAY}), key)
    beyond = forge(claims(clock, **{claim: now + LEEWAY + 1}), key)
    assert service.verify_access_token(within).subject == USER  # clock skew tolerated
    assert refused(service, beyond)


@pytest.mark.parametrize("missing", ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "sid"])
def test_a_token_missing_any_claim_is_refused(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock, missing: str
) -> None:
    assert refused(service, forge(claims(clock, **{missing: None}), key))


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
        ("exp", 10**20),
        ("iat", "yesterday"),
    ],
    ids=repr,
)
def test_a_claim_of_the_wrong_shape_is_refused(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock, claim: str, value: object
) -> None:
    assert refused(service, forge(claims(clock, **{claim: value}), key))


def test_a_forged_client_token_of_the_right_shape_is_accepted(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    token = forge(claims(clock, client_id="svc", sub="svc", scope="a", sid=None), key)
    assert service.verify_access_token(token).client_id == "svc"


@pytest.mark.parametrize(
    "changes",
    [
        {"client_id": "svc", "sub": "svc", "scope": "a"},  # a client token with a session
        {"client_id": "svc", "sub": "other", "scope": "a", "sid": None},
        {"client_id": "svc", "sub": "svc", "sid": None},  # no scope
        {"client_id": "", "sub": "", "scope": "a", "sid": None},
        {"client_id": 5, "sub": "5", "scope": "a", "sid": None},
        {"client_id": "svc", "sub": "svc", "scope": ["a"], "sid": None},
        {"client_id": None, "sub": "svc", "scope": "a", "sid": None},  # neither kind
    ],
    ids=repr,
)
def test_client_token_claims_must_be_consistent(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock, changes: dict[str, Any]
) -> None:
    assert refused(service, forge(claims(clock, **changes), key))


# --- MFA tokens ---------------------------------------------------------------------------


def test_an_mfa_token_verifies_to_its_user_and_expires(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    token = service.issue_mfa_token(USER, ttl_seconds=300)
    header = jwt.get_unverified_header(token)
    assert (header["typ"], header["kid"]) == ("mfa+jwt", key.kid)
    payload = unverified(token, key)
    assert payload["aud"] == MFA_AUDIENCE
    assert payload["exp"] - payload["iat"] == 300
    assert "sid" not in payload
    assert service.verify_mfa_token(token) == USER
    clock.advance(seconds=300 + LEEWAY)
    with pytest.raises(InvalidTokenError):
        service.verify_mfa_token(token)


def test_mfa_and_access_tokens_are_never_interchangeable(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    assert refused(service, service.issue_mfa_token(USER))
    access = service.issue_access_token(subject=USER, session_id=SESSION).token
    client = service.issue_client_token("svc", "").token
    for token in [
        access,
        client,
        # Each barrier alone holds: the MFA type with the access audience, and back.
        forge(claims(clock, sid=None), key, typ="mfa+jwt"),
        forge(claims(clock, aud=MFA_AUDIENCE, sid=None), key),
    ]:
        with pytest.raises(InvalidTokenError):
            service.verify_mfa_token(token)
    assert refused(service, forge(claims(clock, aud=MFA_AUDIENCE), key, typ="mfa+jwt"))


def test_mfa_tokens_refuse_the_usual_forgeries(
    service: PyJwtTokenService, key: SigningKey, clock: FixedClock
) -> None:
    good = claims(clock, aud=MFA_AUDIENCE, sid=None)
    assert service.verify_mfa_token(forge(good, key, typ="mfa+jwt")) == USER
    header = {"alg": "none", "typ": "mfa+jwt", "kid": key.kid}
    for token in [
        b64(header) + "." + b64(good) + ".",
        forge(good, key, typ="mfa+jwt", kid="unknown"),
        forge({**good, "iss": "other"}, key, typ="mfa+jwt"),
        forge({**good, "sub": "not-a-uuid"}, key, typ="mfa+jwt"),
    ]:
        with pytest.raises(InvalidTokenError):
            service.verify_mfa_token(token)


def test_an_mfa_token_cannot_outlive_its_key(service: PyJwtTokenService) -> None:
    with pytest.raises(ValueError, match="retired keys"):
        service.issue_mfa_token(USER, ttl_seconds=TTL + 1)
    with pytest.raises(ValueError, match="at least 1"):
        service.issue_mfa_token(USER, ttl_seconds=0)


# --- rotation through a stored ring -------------------------------------------------------


class Instance:
    """One service instance: its own ring over the shared store."""

    def __init__(self, store: InMemoryStore, clock: FixedClock, algorithm: KeyAlgorithm) -> None:
        self.ring = KeyRing.stored(
            uow_factory=units_of_work(lambda: InMemoryUnitOfWork(store)),
            key_factory=CryptographyKeyFactory(),
            signing_algorithm=algorithm, token_lifetime=LIFETIME, clock=clock,
        )  # fmt: skip
        self.service = make_service(self.ring, clock)

    def token(self) -> str:
        return self.service.issue_access_token(subject=USER, session_id=SESSION).token


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


@pytest.mark.parametrize("algorithm", [RS256, EDDSA], ids=str)
async def test_rotation_keeps_old_tokens_valid_until_expiry_then_drops_the_old_key(
    clock: FixedClock, algorithm: KeyAlgorithm
) -> None:
    store = InMemoryStore()
    one = Instance(store, clock, algorithm)
    await one.ring.ensure_key(algorithm)
    old_kid = one.ring.signing_key().kid
    before = one.token()
    assert kid_of(before) == old_kid

    clock.advance(seconds=120)
    retired_at = clock.now()
    new = await one.ring.rotate(algorithm)
    after = one.token()
    assert kid_of(after) == new.kid != old_kid
    assert one.service.verify_access_token(before).subject == USER  # still good
    assert one.service.verify_access_token(after).subject == USER
    assert [jwk["kid"] for jwk in one.ring.jwks(clock.now())] == [new.kid, old_kid]

    # A token the old key signed just before its retirement (a lagging instance) lives
    # until retired_at + TTL and is accepted until then, leeway included...
    old_key = one.ring.verification_key(old_kid)
    assert old_key is not None
    clock.set(retired_at + LIFETIME - timedelta(seconds=1))
    last_old = forge(claims(clock, exp=int(clock.now().timestamp()) + 1), old_key)
    assert one.service.verify_access_token(last_old).subject == USER
    # ...and from retired_at + lifetime the kid is unknown and out of the JWKS.
    clock.set(retired_at + LIFETIME)
    late_old = forge(claims(clock), old_key)
    assert refused(one.service, late_old)
    assert [jwk["kid"] for jwk in one.ring.jwks(clock.now())] == [new.kid]
    assert one.service.verify_access_token(forge(claims(clock), new)).subject == USER


async def test_an_instance_that_has_not_refreshed_yet_still_interoperates(
    clock: FixedClock,
) -> None:
    store = InMemoryStore()
    one, two = Instance(store, clock, EDDSA), Instance(store, clock, EDDSA)
    await one.ring.ensure_key(EDDSA)
    await two.ring.ensure_key(EDDSA)
    new = await one.ring.rotate(EDDSA)
    lagging = two.token()  # two still signs with the old key, which one still accepts
    assert kid_of(lagging) != new.kid
    assert one.service.verify_access_token(lagging).subject == USER
    assert refused(two.service, one.token())  # two does not know the new kid yet
    await two.ring.refresh()
    assert kid_of(two.token()) == new.kid
    assert two.service.verify_access_token(one.token()).subject == USER


@pytest.mark.parametrize("algorithm", [RS256, EDDSA], ids=str)
async def test_pyjwt_verifies_tokens_with_each_published_jwk(
    clock: FixedClock, algorithm: KeyAlgorithm
) -> None:
    store = InMemoryStore()
    one = Instance(store, clock, algorithm)
    await one.ring.ensure_key(algorithm)
    tokens = [one.token()]
    await one.ring.rotate(algorithm)
    tokens.append(one.token())
    published = {jwk["kid"]: jwk for jwk in one.ring.jwks(clock.now())}
    assert len(published) == 2
    for token in tokens:
        jwk = published[kid_of(token)]
        assert jwk["use"] == "sig"
        assert jwk["alg"] == str(algorithm)
        payload = jwt.decode(
            token, jwt.PyJWK(jwk), algorithms=[jwk["alg"]], audience=AUDIENCE, issuer=ISSUER,
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )  # fmt: skip
        assert payload["sub"] == str(USER)


def test_no_jwks_for_hs256(clock: FixedClock) -> None:
    assert static_ring(clock, signing_key(HS256)).jwks(clock.now()) == []
