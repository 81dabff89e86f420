"""KeyRing: which key signs, which verify, what the JWKS shows, and rotation.

Runs on the real in-memory unit of work and a fake key factory (no cryptography: the
ring never looks inside key material)."""

import asyncio
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import pytest

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.clock import FixedClock
from application.ports.key_factory import KeyFactory
from application.tokens.key_ring import KeyRing, SigningKeyUnavailableError, StaticKeysError
from domain.tokens.signing_keys import KeyAlgorithm, SigningKey
from tests.eventful import units_of_work

LIFETIME = timedelta(minutes=15)
RS256, EDDSA, HS256 = KeyAlgorithm.RS256, KeyAlgorithm.EDDSA, KeyAlgorithm.HS256


class CountingKeyFactory(KeyFactory):
    """Keys named k1, k2, ... with a placeholder JWK; symmetric keys get none."""

    def __init__(self) -> None:
        self.made = 0

    def generate(self, algorithm: KeyAlgorithm, *, now: datetime) -> SigningKey:
        self.made += 1
        kid = f"k{self.made}"
        jwk = None if algorithm.is_symmetric else {"kty": "test", "kid": kid, "alg": algorithm}
        return SigningKey(
            kid=kid, algorithm=algorithm, private_material=kid.encode(), public_jwk=jwk,
            created_at=now,
        )  # fmt: skip


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def keys() -> CountingKeyFactory:
    return CountingKeyFactory()


def stored_ring(
    store: InMemoryStore, keys: KeyFactory, clock: FixedClock, algorithm: KeyAlgorithm = RS256
) -> KeyRing:
    return KeyRing.stored(
        uow_factory=units_of_work(lambda: InMemoryUnitOfWork(store)), key_factory=keys,
        signing_algorithm=algorithm, token_lifetime=LIFETIME, clock=clock,
    )  # fmt: skip


@pytest.fixture
def ring(store: InMemoryStore, keys: CountingKeyFactory, clock: FixedClock) -> KeyRing:
    return stored_ring(store, keys, clock)


async def stored(store: InMemoryStore) -> list[SigningKey]:
    async with InMemoryUnitOfWork(store) as uow:
        return await uow.signing_keys.list()


def key(
    kid: str, algorithm: KeyAlgorithm, *, minutes: int, retired: int | None = None
) -> SigningKey:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    return SigningKey(
        kid=kid, algorithm=algorithm, private_material=b"x" * 32,
        public_jwk=None if algorithm.is_symmetric else {"kid": kid},
        created_at=t0 + timedelta(minutes=minutes),
        retired_at=None if retired is None else t0 + timedelta(minutes=retired),
    )  # fmt: skip


# --- stored mode --------------------------------------------------------------------------


async def test_an_empty_ring_has_no_signing_key_until_ensure_key(
    ring: KeyRing, store: InMemoryStore, keys: CountingKeyFactory
) -> None:
    with pytest.raises(SigningKeyUnavailableError):
        ring.signing_key()
    assert ring.jwks(FixedClock().now()) == []
    await ring.ensure_key(RS256)
    assert ring.signing_key().kid == "k1"
    assert [k.kid for k in await stored(store)] == ["k1"]
    await ring.ensure_key(RS256)  # idempotent: a key of that algorithm is active
    assert keys.made == 1


async def test_ensure_key_is_per_algorithm(
    ring: KeyRing, store: InMemoryStore, keys: CountingKeyFactory
) -> None:
    await ring.ensure_key(EDDSA)
    # An EdDSA key does not sign for an RS256 ring, and does not stop it getting one.
    with pytest.raises(SigningKeyUnavailableError):
        ring.signing_key()
    await ring.ensure_key(RS256)
    assert ring.signing_key().algorithm is RS256
    assert keys.made == 2


async def test_rotate_signs_with_the_new_key_and_retires_the_old_one(
    ring: KeyRing, store: InMemoryStore, clock: FixedClock
) -> None:
    await ring.ensure_key(RS256)
    clock.advance(seconds=60)
    new = await ring.rotate(RS256)
    assert new.kid == "k2"
    assert ring.signing_key() == new
    by_kid = {k.kid: k for k in await stored(store)}
    assert by_kid["k1"].retired_at == clock.now()
    assert by_kid["k2"].retired_at is None


async def test_a_retired_key_verifies_and_is_published_for_the_token_lifetime_then_drops(
    ring: KeyRing, clock: FixedClock
) -> None:
    await ring.ensure_key(RS256)
    retired_at = clock.advance(seconds=60)
    await ring.rotate(RS256)
    assert ring.verification_key("k1") is not None
    assert [jwk["kid"] for jwk in ring.jwks(clock.now())] == ["k2", "k1"]  # newest first

    clock.set(retired_at + LIFETIME - timedelta(seconds=1))
    assert ring.verification_key("k1") is not None
    assert "k1" in {jwk["kid"] for jwk in ring.jwks(clock.now())}

    clock.set(retired_at + LIFETIME)
    assert ring.verification_key("k1") is None
    assert [jwk["kid"] for jwk in ring.jwks(clock.now())] == ["k2"]
    assert ring.verification_key("k2") is not None


async def test_rotate_only_retires_keys_of_its_algorithm(
    ring: KeyRing, store: InMemoryStore
) -> None:
    await ring.ensure_key(EDDSA)
    await ring.ensure_key(RS256)
    await ring.rotate(RS256)
    retired = {k.kid: k.retired_at is not None for k in await stored(store)}
    assert retired == {"k1": False, "k2": True, "k3": False}


async def test_other_instances_learn_of_a_rotation_on_refresh(
    store: InMemoryStore, keys: CountingKeyFactory, clock: FixedClock
) -> None:
    first, second = stored_ring(store, keys, clock), stored_ring(store, keys, clock)
    await first.ensure_key(RS256)
    await second.ensure_key(RS256)
    assert keys.made == 1
    await first.rotate(RS256)
    # Until it refreshes, the other instance signs with the old key (which the first
    # still verifies) and does not yet know the new kid.
    assert second.signing_key().kid == "k1"
    assert first.verification_key("k1") is not None
    assert second.verification_key("k2") is None
    await second.refresh()
    assert second.signing_key().kid == "k2"


async def test_symmetric_keys_are_never_published(
    store: InMemoryStore, keys: CountingKeyFactory, clock: FixedClock
) -> None:
    ring = stored_ring(store, keys, clock, HS256)
    await ring.ensure_key(HS256)
    assert ring.signing_key().algorithm is HS256
    assert ring.jwks(clock.now()) == []


async def test_unknown_kids_do_not_verify(ring: KeyRing) -> None:
    await ring.ensure_key(RS256)
    assert ring.verification_key("nope") is None
    assert ring.verification_key("") is None


async def test_jwks_entries_are_copies(ring: KeyRing, clock: FixedClock) -> None:
    await ring.ensure_key(RS256)
    ring.jwks(clock.now())[0]["kid"] = "tampered"
    assert ring.jwks(clock.now())[0]["kid"] == "k1"


class Gate:
    """Holds the next refresh between reading the keys and installing them."""

    def __init__(self) -> None:
        self.armed = False
        self.paused = asyncio.Event()
        self.release = asyncio.Event()


class GatedUnitOfWork:
    """An in-memory unit of work that, when its gate is armed, pauses after the
    transaction that listed the keys has ended (store lock released), so other
    transactions can run before the caller uses what it read."""

    def __init__(self, store: InMemoryStore, gate: Gate) -> None:
        self._inner = InMemoryUnitOfWork(store)
        self._gate = gate
        self._pause = False

    async def __aenter__(self) -> "GatedUnitOfWork":
        await self._inner.__aenter__()
        self.signing_keys = self
        self.audit, self.events = self._inner.audit, self._inner.events  # for a rotation
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        await self._inner.__aexit__(exc_type, exc, tb)
        if self._pause:
            self._gate.paused.set()
            await self._gate.release.wait()

    async def commit(self) -> None:
        await self._inner.commit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner.signing_keys, name)

    async def list(self) -> list[SigningKey]:
        if self._gate.armed:
            self._gate.armed, self._pause = False, True
        return await self._inner.signing_keys.list()


def gated_ring(
    store: InMemoryStore, keys: CountingKeyFactory, clock: FixedClock, gate: Gate
) -> KeyRing:
    return KeyRing.stored(
        uow_factory=units_of_work(lambda: GatedUnitOfWork(store, gate)),  # type: ignore[arg-type, return-value]
        key_factory=keys, signing_algorithm=RS256, token_lifetime=LIFETIME, clock=clock,
    )  # fmt: skip


async def test_reads_during_a_refresh_see_the_previous_keys(
    store: InMemoryStore, keys: CountingKeyFactory, clock: FixedClock
) -> None:
    gate = Gate()
    ring = gated_ring(store, keys, clock, gate)
    await ring.ensure_key(RS256)
    await stored_ring(store, keys, clock).rotate(RS256)  # another instance rotates

    gate.armed = True
    refreshing = asyncio.create_task(ring.refresh())
    await gate.paused.wait()
    assert ring.signing_key().kid == "k1"  # mid-refresh: the whole old snapshot
    assert ring.verification_key("k1") is not None
    assert ring.verification_key("k2") is None
    gate.release.set()
    await refreshing
    assert ring.signing_key().kid == "k2"


async def test_a_slow_refresh_cannot_undo_a_later_rotation(
    store: InMemoryStore, keys: CountingKeyFactory, clock: FixedClock
) -> None:
    gate = Gate()
    ring = gated_ring(store, keys, clock, gate)
    await ring.ensure_key(RS256)
    gate.armed = True
    refreshing = asyncio.create_task(ring.refresh())  # has read the key set before k2
    await gate.paused.wait()
    rotating = asyncio.create_task(ring.rotate(RS256))
    for _ in range(20):  # let the rotation run as far as it can
        await asyncio.sleep(0.001)
    gate.release.set()
    await asyncio.gather(refreshing, rotating)
    assert ring.signing_key().kid == "k2"


# --- static mode --------------------------------------------------------------------------


async def test_a_static_ring_signs_with_its_newest_unretired_key(clock: FixedClock) -> None:
    given = [
        key("old", EDDSA, minutes=0),
        key("new", EDDSA, minutes=5),
        key("gone", EDDSA, minutes=9, retired=9),  # newer, but retired: does not sign
    ]
    ring = KeyRing.static(given, token_lifetime=LIFETIME, clock=clock)
    assert ring.is_static
    assert ring.signing_algorithm is EDDSA
    assert ring.signing_key().kid == "new"
    assert ring.verification_key("old") is not None
    await ring.refresh()  # no-op
    await ring.ensure_key(RS256)  # no-op
    assert ring.signing_key().kid == "new"


async def test_a_static_ring_refuses_rotation(clock: FixedClock) -> None:
    ring = KeyRing.static([key("hs", HS256, minutes=0)], token_lifetime=LIFETIME, clock=clock)
    with pytest.raises(StaticKeysError) as refused:
        await ring.rotate(HS256)
    assert refused.value.code == "static_signing_keys"
    assert "configuration" in refused.value.message


def test_a_static_ring_needs_an_unretired_key(clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="unretired"):
        KeyRing.static([], token_lifetime=LIFETIME, clock=clock)
    with pytest.raises(ValueError, match="unretired"):
        KeyRing.static(
            [key("gone", RS256, minutes=0, retired=1)], token_lifetime=LIFETIME, clock=clock
        )


def test_construction_is_checked(
    store: InMemoryStore, keys: CountingKeyFactory, clock: FixedClock
) -> None:
    with pytest.raises(ValueError, match="positive"):
        KeyRing.static([key("a", RS256, minutes=0)], token_lifetime=timedelta(0), clock=clock)
    with pytest.raises(ValueError, match="both"):
        KeyRing(
            signing_algorithm=RS256, token_lifetime=LIFETIME, clock=clock,
            uow_factory=units_of_work(lambda: InMemoryUnitOfWork(store)),
        )  # fmt: skip
