"""Invalidate cached users and roles after the transaction that changed them commits.

Wrapping the unit of work (rather than asking each use case to remember) means a new
use case that writes a user cannot forget: every write through `users` or `roles`
names its keys, and `commit` drops them everywhere once the data is durable.
"""

import contextlib
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from application.caching.user_cache import ROLES_KEY, SIGNING_KEYS_KEY, user_key
from application.errors import ServiceUnavailableError
from application.ports.api_key_repository import ApiKeyRepository
from application.ports.audit_log import AuditLog
from application.ports.cache import Cache
from application.ports.mail_outbox import MailOutbox
from application.ports.mfa_repository import MfaRepository
from application.ports.one_time_token_repository import OneTimeTokenRepository
from application.ports.role_repository import RoleRepository
from application.ports.service_client_repository import ServiceClientRepository
from application.ports.session_repository import SessionRepository
from application.ports.signing_key_repository import SigningKeyRepository
from application.ports.unit_of_work import UnitOfWork
from application.ports.user_repository import UserFilter, UserRepository
from domain.roles import RoleDefinition
from domain.signing_keys import SigningKey
from domain.user import User
from domain.value_objects import Email, Username


class _Users(UserRepository):
    def __init__(self, inner: UserRepository, touched: set[str]) -> None:
        self._inner = inner
        self._touched = touched

    async def add(self, user: User) -> None:
        self._touched.add(user_key(user.id))
        await self._inner.add(user)

    async def update(self, user: User) -> None:
        self._touched.add(user_key(user.id))
        await self._inner.update(user)

    async def delete(self, user_id: UUID) -> None:
        self._touched.add(user_key(user_id))
        await self._inner.delete(user_id)

    async def reserve_login_attempt(
        self, user_id: UUID, *, now: datetime, threshold: int
    ) -> int | None:
        self._touched.add(user_key(user_id))
        return await self._inner.reserve_login_attempt(user_id, now=now, threshold=threshold)

    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None:
        return await self._inner.get(user_id, for_update=for_update)

    async def get_by_email(self, email: Email) -> User | None:
        return await self._inner.get_by_email(email)

    async def get_by_username(self, username: Username) -> User | None:
        return await self._inner.get_by_username(username)

    async def list(self, *, filter: UserFilter, after: UUID | None, limit: int) -> list[User]:
        return await self._inner.list(filter=filter, after=after, limit=limit)

    async def count_active_admins(self, *, lock: bool = False) -> int:
        return await self._inner.count_active_admins(lock=lock)


class _Roles(RoleRepository):
    """Any role write drops the role table, whose new generation retires every cached
    user (a rename or a deletion rewrites users without naming them)."""

    def __init__(self, inner: RoleRepository, touched: set[str]) -> None:
        self._inner = inner
        self._touched = touched

    async def add(self, role: RoleDefinition) -> None:
        self._touched.add(ROLES_KEY)
        await self._inner.add(role)

    async def update(self, role: RoleDefinition, *, previous_name: str) -> None:
        self._touched.add(ROLES_KEY)
        await self._inner.update(role, previous_name=previous_name)

    async def delete(self, name: str) -> None:
        self._touched.add(ROLES_KEY)
        await self._inner.delete(name)

    async def get(self, name: str) -> RoleDefinition | None:
        return await self._inner.get(name)

    async def get_many(self, names: frozenset[str]) -> list[RoleDefinition]:
        return await self._inner.get_many(names)

    async def list(self) -> list[RoleDefinition]:
        return await self._inner.list()


class _SigningKeys(SigningKeyRepository):
    """Each instance keeps the signing keys in memory (its key ring); a rotation names
    them so the others reload at once rather than at their next periodic refresh."""

    def __init__(self, inner: SigningKeyRepository, touched: set[str]) -> None:
        self._inner = inner
        self._touched = touched

    async def add(self, key: SigningKey) -> None:
        self._touched.add(SIGNING_KEYS_KEY)
        await self._inner.add(key)

    async def retire(self, kid: str, *, now: datetime) -> None:
        self._touched.add(SIGNING_KEYS_KEY)
        await self._inner.retire(kid, now=now)

    async def list(self) -> list[SigningKey]:
        return await self._inner.list()


class InvalidatingUnitOfWork:
    """A `UnitOfWork` (structurally: its repositories exist once entered, like the
    wrapped one's)."""

    users: UserRepository
    roles: RoleRepository
    sessions: SessionRepository
    api_keys: ApiKeyRepository
    audit: AuditLog
    one_time_tokens: OneTimeTokenRepository
    outbox: MailOutbox
    signing_keys: SigningKeyRepository
    clients: ServiceClientRepository
    mfa: MfaRepository

    def __init__(self, inner: UnitOfWork, cache: Cache) -> None:
        self._inner = inner
        self._cache = cache
        self._touched: set[str] = set()

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        self._rebind()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        try:
            await self._inner.commit()
        finally:
            # Also when the commit's outcome is unknown (the connection died during
            # COMMIT): dropping a key that did not change costs one reload.
            touched = set(self._touched)
            self._touched.clear()
            if touched:
                # A composed cache keeps what it could not send, to retry.
                with contextlib.suppress(ServiceUnavailableError):
                    await self._cache.invalidate(touched)

    def _rebind(self) -> None:
        # Adapters open their repositories on entry, not before.
        self.users = _Users(self._inner.users, self._touched)
        self.roles = _Roles(self._inner.roles, self._touched)
        self.signing_keys = _SigningKeys(self._inner.signing_keys, self._touched)
        for name in (
            "sessions",
            "api_keys",
            "audit",
            "one_time_tokens",
            "outbox",
            "clients",
            "mfa",
        ):
            setattr(self, name, getattr(self._inner, name))


def invalidating(factory: Callable[[], UnitOfWork], cache: Cache) -> Callable[[], UnitOfWork]:
    """A unit-of-work factory whose transactions invalidate what they wrote."""
    return lambda: InvalidatingUnitOfWork(factory(), cache)
