"""The signing keys this instance signs and verifies with, and their rotation.

Reads (`signing_key`, `verification_key`, `jwks`) are synchronous and never wait: they
use an immutable snapshot that `refresh` replaces in one assignment, so a token being
verified while a refresh runs sees either the old key set or the new one, never half
of each. Maintenance (`refresh`, `ensure_key`, `rotate`) is async and serialized per
instance, so a slow refresh cannot overwrite the result of a later one.

Two modes:
- stored (`KeyRing.stored`): keys live in the `signing_keys` repository, shared by
  every instance. `rotate` adds a key and retires the previous one; other instances
  learn of it on their next `refresh`, which the composition root runs periodically.
- static (`KeyRing.static`): keys given up front (HS256 from `JWT_SECRET`, operator PEM
  files). Nothing is stored; `refresh` does nothing and `rotate` is refused.

A retired key keeps verifying, and stays in the JWKS, until `retired_at` +
`token_lifetime`: the longest lifetime of any token it could have signed, leeway
included (RFC 7517 §5 leaves this to the publisher; publishing past expiry is harmless,
dropping early breaks live tokens).
"""

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any
from uuid import UUID

from application.errors import ConflictError, ServiceUnavailableError
from application.ports.clock import Clock
from application.ports.key_factory import KeyFactory
from application.ports.signing_keys import SigningKeys
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.tokens.events import SigningKeyRotated
from domain.tokens.signing_keys import KeyAlgorithm, SigningKey


class SigningKeyUnavailableError(ServiceUnavailableError):
    """No usable key signs with the configured algorithm: the ring was not loaded yet
    (`ensure_key`/`refresh` not run), or every key of that algorithm was retired."""

    default_message = "no signing key is available; try again shortly"


class StaticKeysError(ConflictError):
    """Rotation asked of a ring whose keys come from configuration."""

    code = "static_signing_keys"
    default_message = (
        "signing keys come from configuration (JWT_SECRET or key files); rotate them by "
        "changing the configuration, not through the API"
    )


@dataclass(frozen=True, slots=True)
class _Snapshot:
    signing: SigningKey | None
    by_kid: Mapping[str, SigningKey] = field(default_factory=dict)
    ordered: tuple[SigningKey, ...] = ()


class KeyRing(SigningKeys):
    """Which key signs, which keys verify, and what the JWKS publishes.

    Build with `KeyRing.static(...)` or `KeyRing.stored(...)`.
    """

    def __init__(
        self,
        *,
        signing_algorithm: KeyAlgorithm,
        token_lifetime: timedelta,
        clock: Clock,
        uow_factory: UnitOfWorkFactory | None = None,
        key_factory: KeyFactory | None = None,
        keys: Iterable[SigningKey] = (),
    ) -> None:
        if token_lifetime <= timedelta(0):
            raise ValueError("token_lifetime must be positive")
        if (uow_factory is None) != (key_factory is None):
            raise ValueError("a stored key ring needs both uow_factory and key_factory")
        self._algorithm = signing_algorithm
        self._lifetime = token_lifetime
        self._clock = clock
        self._uow_factory = uow_factory
        self._key_factory = key_factory
        self._lock = asyncio.Lock()
        self._snapshot = self._snapshot_of(keys)

    @classmethod
    def static(
        cls, keys: Iterable[SigningKey], *, token_lifetime: timedelta, clock: Clock
    ) -> "KeyRing":
        """A ring of fixed keys. The newest unretired key signs (its algorithm is the
        signing algorithm); the others verify. At least one unretired key is required."""
        given = list(keys)
        active = [key for key in given if key.retired_at is None]
        if not active:
            raise ValueError("a static key ring needs at least one unretired key")
        newest = max(active, key=lambda key: key.created_at)
        return cls(
            signing_algorithm=newest.algorithm,
            token_lifetime=token_lifetime,
            clock=clock,
            keys=given,
        )

    @classmethod
    def stored(
        cls,
        *,
        uow_factory: UnitOfWorkFactory,
        key_factory: KeyFactory,
        signing_algorithm: KeyAlgorithm,
        token_lifetime: timedelta,
        clock: Clock,
    ) -> "KeyRing":
        """A ring backed by the `signing_keys` repository. Empty until `ensure_key` or
        `refresh` has run: call `await ring.ensure_key(signing_algorithm)` at startup."""
        return cls(
            signing_algorithm=signing_algorithm,
            token_lifetime=token_lifetime,
            clock=clock,
            uow_factory=uow_factory,
            key_factory=key_factory,
        )

    @property
    def is_static(self) -> bool:
        return self._uow_factory is None

    @property
    def signing_algorithm(self) -> KeyAlgorithm:
        return self._algorithm

    @property
    def token_lifetime(self) -> timedelta:
        return self._lifetime

    # --- reads: synchronous, lock-free --------------------------------------------------

    def signing_key(self) -> SigningKey:
        """The newest unretired key of the signing algorithm. Raises
        `SigningKeyUnavailableError` if there is none."""
        signing = self._snapshot.signing
        if signing is None:
            raise SigningKeyUnavailableError()
        return signing

    def verification_key(self, kid: str) -> SigningKey | None:
        """The key named `kid` if it still verifies now; None for unknown or expired."""
        key = self._snapshot.by_kid.get(kid)
        if key is None or not key.verifies_at(self._clock.now(), token_lifetime=self._lifetime):
            return None
        return key

    def jwks(self, now: datetime) -> list[dict[str, Any]]:
        """Public JWKs of the asymmetric keys that still verify at `now`, newest first
        (RFC 7517 §5 `keys`). Symmetric keys are never published."""
        return [
            dict(key.public_jwk)
            for key in self._snapshot.ordered
            if key.public_jwk is not None and key.verifies_at(now, token_lifetime=self._lifetime)
        ]

    # --- maintenance: async, serialized -------------------------------------------------

    async def refresh(self) -> None:
        """Reload every key from the repository (a no-op for a static ring). Storage
        failures propagate; the previous snapshot stays in use."""
        if self._uow_factory is None:
            return
        async with self._lock:
            await self._reload(self._uow_factory)

    async def ensure_key(self, algorithm: KeyAlgorithm) -> None:
        """Create the first key of `algorithm` if none is active, then refresh.

        Two instances starting together may both create one; the newer signs and the
        older keeps verifying until the next `rotate` retires it, so that race is
        harmless. A no-op for a static ring.
        """
        uow_factory, key_factory = self._uow_factory, self._key_factory
        if uow_factory is None or key_factory is None:
            return
        async with self._lock:
            async with uow_factory() as uow:
                keys = await uow.signing_keys.list()
            if not any(k.algorithm is algorithm and k.retired_at is None for k in keys):
                new = await self._generate(key_factory, algorithm)
                async with uow_factory() as uow:
                    await uow.signing_keys.add(new)
                    await uow.commit()
            await self._reload(uow_factory)

    async def rotate(self, algorithm: KeyAlgorithm, *, actor_id: UUID | None = None) -> SigningKey:
        """Add a new key of `algorithm` and retire every active key of that algorithm,
        in one transaction that records `SigningKeyRotated` (audited as done by
        `actor_id`); then refresh and return the new key.

        The retired keys keep verifying for `token_lifetime`. Other instances sign with
        the new key after their next `refresh`; until then their tokens carry the old
        kid, which verifies everywhere. Raises `StaticKeysError` for a static ring.
        """
        uow_factory, key_factory = self._uow_factory, self._key_factory
        if uow_factory is None or key_factory is None:
            raise StaticKeysError()
        async with self._lock:
            new = await self._generate(key_factory, algorithm)
            now = self._clock.now()
            async with uow_factory() as uow:
                retired = []
                for key in await uow.signing_keys.list():
                    if key.algorithm is algorithm and key.retired_at is None:
                        await uow.signing_keys.retire(key.kid, now=now)
                        retired.append(key.kid)
                await uow.signing_keys.add(new)
                uow.record(
                    SigningKeyRotated(
                        occurred_at=now, kid=new.kid, retired_kid=retired[0] if retired else None
                    )
                )
                await uow.commit(actor_id=actor_id)
            await self._reload(uow_factory)
        return new

    # --- internals ------------------------------------------------------------------------

    async def _generate(self, factory: KeyFactory, algorithm: KeyAlgorithm) -> SigningKey:
        # RSA generation takes tens of milliseconds of CPU: off the event loop.
        return await asyncio.to_thread(factory.generate, algorithm, now=self._clock.now())

    async def _reload(self, uow_factory: UnitOfWorkFactory) -> None:
        async with uow_factory() as uow:
            keys = await uow.signing_keys.list()
        self._snapshot = self._snapshot_of(keys)  # one assignment: readers never see half

    def _snapshot_of(self, keys: Iterable[SigningKey]) -> _Snapshot:
        ordered = tuple(sorted(keys, key=lambda key: key.created_at, reverse=True))
        signing = next(
            (k for k in ordered if k.algorithm is self._algorithm and k.retired_at is None),
            None,
        )
        by_kid: dict[str, SigningKey] = {}
        for key in ordered:
            by_kid.setdefault(key.kid, key)  # a duplicate kid: the newest wins
        return _Snapshot(signing=signing, by_kid=MappingProxyType(by_kid), ordered=ordered)
