"""What `UserCache` keeps, and its form in the cache: compact JSON, read back into the
same domain objects (a cached user without its password hash)."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.access.api_keys import ApiKey
from domain.access.permissions import Permission
from domain.identity.events import UserLoggedIn
from domain.identity.user import User
from domain.identity.value_objects import Email, FullName, Username


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


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def encode_user(found: tuple[User, str]) -> bytes:
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


def decode_user(raw: bytes) -> tuple[User, str]:
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


def after_login(raw: bytes, login: UserLoggedIn) -> bytes | None:
    """A cached user as `login` left it (what `User.record_login` changes), unless it
    already shows a later login. Raises on an entry it cannot read (`Cache.amend` then
    drops it)."""
    user, generation = decode_user(raw)
    if user.last_login_at is not None and user.last_login_at >= login.occurred_at:
        return raw
    user.record_login(session_id=login.session_id, now=login.occurred_at)
    return encode_user((user, generation))


def encode_session(state: SessionState) -> bytes:
    return json.dumps(
        {
            "user_id": str(state.user_id),
            "expires_at": state.expires_at.isoformat(),
            "revoked": state.revoked,
        },
        separators=(",", ":"),
    ).encode()


def decode_session(raw: bytes) -> SessionState:
    data = json.loads(raw)
    return SessionState(
        UUID(data["user_id"]), datetime.fromisoformat(data["expires_at"]), bool(data["revoked"])
    )


def encode_roles(table: RoleTable) -> bytes:
    grants = {name: sorted(p.value for p in perms) for name, perms in table.grants.items()}
    return json.dumps({"generation": table.generation, "grants": grants}).encode()


def decode_roles(raw: bytes) -> RoleTable:
    data = json.loads(raw)
    grants = {
        name: frozenset(Permission(p) for p in perms) for name, perms in data["grants"].items()
    }
    return RoleTable(grants, str(data["generation"]))


def encode_api_key(key: ApiKey) -> bytes:
    """The key as stored, its digest included: the cache stands in for the row, and the
    digest (of a random 256-bit secret, never the secret) is what proves a presented key."""
    return json.dumps(
        {
            "id": str(key.id),
            "owner_id": str(key.owner_id),
            "name": key.name,
            "prefix": key.prefix,
            "secret_hash": key.secret_hash,
            "scopes": sorted(p.value for p in key.scopes),
            "created_at": key.created_at.isoformat(),
            "expires_at": _time(key.expires_at),
            "last_used_at": _time(key.last_used_at),
            "revoked_at": _time(key.revoked_at),
        },
        separators=(",", ":"),
    ).encode()


def decode_api_key(raw: bytes) -> ApiKey:
    data = json.loads(raw)
    return ApiKey(
        id=UUID(data["id"]),
        owner_id=UUID(data["owner_id"]),
        name=str(data["name"]),
        prefix=str(data["prefix"]),
        secret_hash=str(data["secret_hash"]),
        scopes=frozenset(Permission(p) for p in data["scopes"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        expires_at=_parse_time(data["expires_at"]),
        last_used_at=_parse_time(data["last_used_at"]),
        revoked_at=_parse_time(data["revoked_at"]),
    )
