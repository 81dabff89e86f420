"""The hot read of every authenticated request, the login session, the user and what
its roles grant, read through a `Cache` and reloaded from the database on a miss.

Freshness rests on three rules:
- every transaction that writes a user, a role or a session invalidates its keys after
  commit (`CacheInvalidation`, a handler of the event pipeline), on every instance;
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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from application.caching.single_flight import SingleFlight
from application.errors import ServiceUnavailableError
from application.ports.cache import Cache, CacheEntry
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.access.permissions import Permission
from domain.access.roles import BUILTIN_PERMISSIONS
from domain.identity.user import User
from domain.identity.value_objects import Email, FullName, Username

T = TypeVar("T")


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


# Decoded values kept beside their bytes; more than this and the memo starts over.
_DECODED_KEPT = 4096


@dataclass(frozen=True, slots=True)
class SessionState:
    """What an authenticated request needs of its login session."""

    user_id: UUID
    expires_at: datetime
    revoked: bool

    def is_active(self, now: datetime) -> bool:
        return not self.revoked and now < self.expires_at


class RoleTable:
    """What each role grants, as loaded at one moment (`generation`)."""

    __slots__ = ("generation", "grants")

    def __init__(self, grants: dict[str, frozenset[Permission]], generation: str) -> None:
        self.grants = grants
        self.generation = generation

    def permissions(self, names: frozenset[str]) -> frozenset[Permission]:
        """What `names` grant (a deleted role grants nothing)."""
        granted: set[Permission] = set()
        for name in names:
            granted |= self.grants.get(name, frozenset())
        return frozenset(granted)


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

        table = await self._read(ROLES_KEY, load, _encode_roles, _decode_roles)
        if table is None:  # the loader never returns None
            raise RuntimeError("role table missing")
        if loaded:
            # Instances that missed together each drew a generation; the first store
            # wins, and adopting it keeps them from retiring each other's cached users.
            with contextlib.suppress(ServiceUnavailableError, ValueError, KeyError, TypeError):
                stored = await self._cache.get(ROLES_KEY)
                if stored.value is not None:
                    table = _decode_roles(stored.value)
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
            _encode_user,
            _decode_user,
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

        return await self._read(session_key(session_id), load, _encode_session, _decode_session)

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


def _copy(user: User) -> User:
    """A shallow copy with its own event list: callers may treat it as theirs."""
    clone = object.__new__(User)
    clone.__dict__.update(user.__dict__)
    clone._events = []
    return clone


def _without_hash(user: User) -> User:
    return dataclasses.replace(user, password_hash=None, _events=[])


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _encode_user(found: tuple[User, str]) -> bytes:
    user, generation = found
    return json.dumps(
        {
            "generation": generation,
            "id": str(user.id),
            "email": user.email.value,
            "username": user.username.value,
            "full_name": user.full_name.value if user.full_name else None,
            "is_active": user.is_active,
            "is_verified": user.is_verified,
            "roles": sorted(user.roles),
            "oauth_provider": user.oauth_provider,
            "created_at": _time(user.created_at),
            "updated_at": _time(user.updated_at),
            "last_login_at": _time(user.last_login_at),
            "failed_logins": user.failed_logins,
            "locked_until": _time(user.locked_until),
            "lockouts": user.lockouts,
        },
        separators=(",", ":"),
    ).encode()


def _decode_user(raw: bytes) -> tuple[User, str]:
    data = json.loads(raw)
    created_at = _parse_time(data["created_at"])
    updated_at = _parse_time(data["updated_at"])
    if created_at is None or updated_at is None:
        raise ValueError("a cached user without timestamps")
    user = User(
        id=UUID(data["id"]),
        email=Email(data["email"]),
        username=Username(data["username"]),
        full_name=FullName(data["full_name"]) if data["full_name"] is not None else None,
        password_hash=None,
        is_active=bool(data["is_active"]),
        is_verified=bool(data["is_verified"]),
        roles=frozenset(data["roles"]),
        oauth_provider=data["oauth_provider"],
        created_at=created_at,
        updated_at=updated_at,
        last_login_at=_parse_time(data["last_login_at"]),
        failed_logins=int(data["failed_logins"]),
        locked_until=_parse_time(data["locked_until"]),
        lockouts=int(data["lockouts"]),
    )
    return user, str(data["generation"])


def _encode_session(state: SessionState) -> bytes:
    return json.dumps(
        {
            "user_id": str(state.user_id),
            "expires_at": state.expires_at.isoformat(),
            "revoked": state.revoked,
        },
        separators=(",", ":"),
    ).encode()


def _decode_session(raw: bytes) -> SessionState:
    data = json.loads(raw)
    return SessionState(
        UUID(data["user_id"]), datetime.fromisoformat(data["expires_at"]), bool(data["revoked"])
    )


def _encode_roles(table: RoleTable) -> bytes:
    grants = {name: sorted(p.value for p in perms) for name, perms in table.grants.items()}
    return json.dumps({"generation": table.generation, "grants": grants}).encode()


def _decode_roles(raw: bytes) -> RoleTable:
    data = json.loads(raw)
    grants = {
        name: frozenset(Permission(p) for p in perms) for name, perms in data["grants"].items()
    }
    return RoleTable(grants, str(data["generation"]))
