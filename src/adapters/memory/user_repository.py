from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from adapters.memory.store import Tables, detached, utc, utc_or_none
from application.errors import EmailAlreadyRegisteredError, UsernameTakenError, UserNotFoundError
from application.ports.user_repository import ListedUser, UserFilter, UserRepository
from domain.access.roles import Role, UnknownRoleError
from domain.identity.user import User
from domain.identity.value_objects import Email, Username


class InMemoryUserRepository(UserRepository):
    """Users in a transaction's working tables. Same contract as the SQL adapter: unique
    email and username (checked at the call), role names that exist (the foreign key),
    detached copies in and out, deleting a user deletes its sessions and their refresh
    tokens, its API keys, its one-time tokens and its MFA factor (not its audit trail).

    `reserve_login_attempt` is atomic because the store lets one transaction run at a
    time: each caller sees the count the previous one left."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, user: User) -> None:
        if user.id in self._tables.users:
            raise ValueError(f"duplicate user id {user.id}")
        self._check_unique(user)
        self._check_roles(user)
        self._tables.users[user.id] = _stored(user)

    async def update(self, user: User) -> None:
        if user.id not in self._tables.users:
            raise UserNotFoundError()
        self._check_unique(user)
        self._check_roles(user)
        self._tables.users[user.id] = _stored(user)

    async def delete(self, user_id: UUID) -> None:
        if self._tables.users.pop(user_id, None) is None:
            return
        # ON DELETE CASCADE, as in the schema.
        doomed = {s.id for s in self._tables.sessions.values() if s.user_id == user_id}
        for session_id in doomed:
            del self._tables.sessions[session_id]
        for token_hash, record in list(self._tables.refresh_tokens.items()):
            if record.session_id in doomed:
                del self._tables.refresh_tokens[token_hash]
        for key_id in [k.id for k in self._tables.api_keys.values() if k.owner_id == user_id]:
            del self._tables.api_keys[key_id]
        for token_hash in [
            t.token_hash for t in self._tables.one_time_tokens.values() if t.user_id == user_id
        ]:
            del self._tables.one_time_tokens[token_hash]
        self._tables.mfa_factors.pop(user_id, None)

    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None:
        # Transactions here hold the store's lock from start to end: always "locked".
        user = self._tables.users.get(user_id)
        return None if user is None else detached(user)

    async def get_by_email(self, email: Email) -> User | None:
        return self._find(lambda u: u.email == email)

    async def get_by_username(self, username: Username) -> User | None:
        return self._find(lambda u: u.username == username)

    async def list(self, *, filter: UserFilter, after: UUID | None, limit: int) -> list[ListedUser]:
        needle = filter.q.lower() if filter.q else None
        found = [
            u
            for u in sorted(self._tables.users.values(), key=lambda u: u.id)
            if (after is None or u.id > after)
            and (filter.is_active is None or u.is_active == filter.is_active)
            and (filter.role is None or filter.role in u.roles)
            and (needle is None or _matches(u, needle))
        ]
        return [ListedUser.of(u) for u in found[: max(limit, 0)]]

    async def reserve_login_attempt(
        self, user_id: UUID, *, now: datetime, threshold: int
    ) -> int | None:
        user = self._tables.users.get(user_id)
        if user is None or user.failed_logins >= threshold or user.is_locked(now):
            return None
        counted = detached(user)
        counted.failed_logins += 1
        self._tables.users[user_id] = counted  # replaced, never mutated: see Tables
        return counted.failed_logins

    async def count_active_admins(self, *, lock: bool = False) -> int:
        return sum(1 for u in self._tables.users.values() if u.is_active and Role.ADMIN in u.roles)

    def _find(self, predicate: Callable[[User], bool]) -> User | None:
        for user in self._tables.users.values():
            if predicate(user):
                return detached(user)
        return None

    def _check_roles(self, user: User) -> None:
        if any(role not in self._tables.roles for role in user.roles):
            raise UnknownRoleError("unknown role")

    def _check_unique(self, user: User) -> None:
        for other in self._tables.users.values():
            if other.id == user.id:
                continue
            if other.email == user.email:
                raise EmailAlreadyRegisteredError()
            if other.username == user.username:
                raise UsernameTakenError()


def _matches(user: User, needle: str) -> bool:
    haystacks = [user.email.value, user.username.value]
    if user.full_name is not None:
        haystacks.append(user.full_name.value.lower())
    return any(needle in h for h in haystacks)


def _stored(user: User) -> User:
    stored = detached(user)
    stored.created_at = utc(user.created_at)
    stored.updated_at = utc(user.updated_at)
    stored.last_login_at = utc_or_none(user.last_login_at)
    stored.locked_until = utc_or_none(user.locked_until)
    stored.roles = frozenset(str(role) for role in user.roles)  # names, as the SQL adapter
    return stored
