"""The hot read of every authenticated request, the login session or the API key, the
user and what its roles grant, read through a `Cache` and reloaded from the database on
a miss.

Freshness rests on three rules:
- every transaction that writes a user, a role, a session or revokes an API key
  invalidates its keys after commit (`CacheInvalidation`, a handler of the event
  pipeline), on every instance; a recorded use of an API key drops its entry too
  (`forget_api_key`);
- a load that raced such a write never stores what it read (the cache's stamps), and a
  request that arrives after the write never joins a load that started before it
  (single-flight keys carry the stamp);
- renaming or deleting a role rewrites the users holding it without naming them, so
  the role table snapshot carries a generation drawn at each load, and a cached user
  from another generation counts as a miss.

Cached users carry no password hash: whoever needs to check a password reads it fresh.
A value served by the in-process tier is decoded once and kept beside the bytes it came
from (a hit returns the very same bytes object until the entry is replaced), so a warm
request parses no JSON; users are handed out as copies, since aggregates are mutable.
"""

import contextlib
import dataclasses
import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

from application.caching.entries import (
    RoleTable,
    SessionState,
    decode_api_key,
    decode_roles,
    decode_session,
    decode_user,
    encode_api_key,
    encode_roles,
    encode_session,
    encode_user,
)
from application.caching.single_flight import SingleFlight
from application.errors import ServiceUnavailableError
from application.ports.cache import Cache, CacheEntry
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.access.api_keys import ApiKey
from domain.access.roles import BUILTIN_PERMISSIONS
from domain.common.aggregate import Aggregate
from domain.identity.user import User

T = TypeVar("T")
A = TypeVar("A", bound=Aggregate)


def _builtin_fingerprint() -> str:
    """Built-in grants come from code: a release that changes them reads a role table
    cached under a new key instead of the previous release's for up to its TTL."""
    described = sorted(
        (name, sorted(p.value for p in perms)) for name, perms in BUILTIN_PERMISSIONS.items()
    )
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()[:12]


ROLES_KEY = f"roles:all:{_builtin_fingerprint()}"
# Not cached here: each instance's key ring holds the keys. Invalidating this name after
# a rotation tells every instance to reload them.
SIGNING_KEYS_KEY = "signing-keys:all"
DEFAULT_TTL_SECONDS = 600.0


def user_key(user_id: UUID) -> str:
    return f"user:{user_id}"


def session_key(session_id: UUID) -> str:
    return f"session:{session_id}"


def api_key_key(prefix: str) -> str:
    return f"api-key:{prefix}"


# Decoded values kept beside their bytes; more than this and the memo starts over.
_DECODED_KEPT = 4096


class UserCache:
    def __init__(
        self,
        cache: Cache,
        uow_factory: UnitOfWorkFactory,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self._cache = cache
        self._uow_factory = uow_factory
        self._ttl = ttl_seconds
        self._flights = SingleFlight()
        self._decoded: dict[str, tuple[bytes, Any]] = {}

    async def roles(self) -> RoleTable:
        loaded = False

        async def load() -> RoleTable:
            nonlocal loaded
            loaded = True
            return await self._load_roles()

        table = await self._read(ROLES_KEY, load, encode_roles, decode_roles)
        if table is None:  # the loader never returns None
            raise RuntimeError("role table missing")
        if loaded:
            # Instances that missed together each drew a generation; the first store
            # wins, and adopting it keeps them from retiring each other's cached users.
            with contextlib.suppress(ServiceUnavailableError, ValueError, KeyError, TypeError):
                stored = await self._cache.get(ROLES_KEY)
                if stored.value is not None:
                    table = decode_roles(stored.value)
        return table

    async def user(self, user_id: UUID, roles: RoleTable) -> User | None:
        """The user as stored, without its password hash; None when it does not exist."""

        async def load() -> tuple[User, str] | None:
            async with self._uow_factory() as uow:
                user = await uow.users.get(user_id)
            return None if user is None else (_without_hash(user), roles.generation)

        found = await self._read(
            user_key(user_id),
            load,
            encode_user,
            decode_user,
            # Cached before a role rename or deletion, which may have rewritten it.
            fresh=lambda cached: cached[1] == roles.generation,
            flight=roles.generation,
        )
        return None if found is None else _copy(found[0])

    async def session(self, session_id: UUID) -> SessionState | None:
        """The session's state as stored; None when there is no such session. Every
        write to a session records an event that invalidates this entry."""

        async def load() -> SessionState | None:
            async with self._uow_factory() as uow:
                session = await uow.sessions.get(session_id)
            if session is None:
                return None
            return SessionState(session.user_id, session.expires_at, session.revoked_at is not None)

        return await self._read(session_key(session_id), load, encode_session, decode_session)

    async def api_key(self, prefix: str) -> ApiKey | None:
        """The API key with this prefix as stored; None when there is none (an unknown
        prefix is not cached: it reads the database each time, as before)."""

        async def load() -> ApiKey | None:
            async with self._uow_factory() as uow:
                return await uow.api_keys.get_by_prefix(prefix)

        found = await self._read(api_key_key(prefix), load, encode_api_key, decode_api_key)
        return None if found is None else _copy(found)

    async def forget_api_key(self, prefix: str) -> None:
        """Drop the key's entry on every instance, once a use of it was recorded: the
        next request reads the new `last_used_at` (a use records no event)."""
        with contextlib.suppress(ServiceUnavailableError):  # kept and retried by the cache
            await self._cache.invalidate({api_key_key(prefix)})

    async def _read(
        self,
        key: str,
        load: Callable[[], Awaitable[T | None]],
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
        fresh: Callable[[T], bool] = lambda _: True,
        flight: str = "",
    ) -> T | None:
        try:
            entry: CacheEntry | None = await self._cache.get(key)
        except ServiceUnavailableError:
            entry = None  # the database answers instead
        if entry is not None and entry.value is not None:
            memo = self._decoded.get(key)
            if memo is not None and memo[0] is entry.value:
                cached: T = memo[1]
            else:
                try:
                    cached = decode(entry.value)
                except (ValueError, KeyError, TypeError):
                    cached = None  # type: ignore[assignment] # another version wrote it: load
                else:
                    if len(self._decoded) >= _DECODED_KEPT:
                        self._decoded.clear()
                    self._decoded[key] = (entry.value, cached)
            if cached is not None and fresh(cached):
                return cached

        async def load_and_store() -> T | None:
            value = await load()
            if value is not None and entry is not None:
                await self._store(key, encode(value), entry.stamp)
            return value

        # Keyed by the stamp too: a request that read after an invalidation must not
        # join a load that began before it.
        stamp = entry.stamp if entry is not None else "unavailable"
        return await self._flights.run(f"{key}#{stamp}#{flight}", load_and_store)

    async def _store(self, key: str, value: bytes, stamp: str) -> None:
        with contextlib.suppress(ServiceUnavailableError):  # the next request loads again
            await self._cache.set(key, value, ttl_seconds=self._ttl, stamp=stamp)

    async def _load_roles(self) -> RoleTable:
        async with self._uow_factory() as uow:
            roles = await uow.roles.list()
        return RoleTable({r.name: r.permissions for r in roles}, secrets.token_hex(8))


def _copy(entity: A) -> A:
    """A shallow copy with its own event list: callers may treat it as theirs."""
    clone = object.__new__(type(entity))
    clone.__dict__.update(entity.__dict__)
    clone._events = []
    return clone


def _without_hash(user: User) -> User:
    return dataclasses.replace(user, password_hash=None, _events=[])
