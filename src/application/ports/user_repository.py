from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol
from uuid import UUID

from domain.identity.user import User, locked_at
from domain.identity.value_objects import Email, Username


@dataclass(frozen=True, slots=True, kw_only=True)
class UserFilter:
    """Listing filters. `q` matches a case-insensitive substring of email, username or
    full name."""

    q: str | None = None
    is_active: bool | None = None
    role: str | None = None


class ListedUser(NamedTuple):
    """One user as a listing shows it: a read model, not the entity. A page of a hundred
    reads only what it shows (no password hash, no login counters) and builds no
    aggregate per row, which had been most of a page's cost."""

    id: UUID
    email: str
    username: str
    full_name: str | None
    is_active: bool
    is_verified: bool
    roles: tuple[str, ...]
    """Sorted role names."""
    oauth_provider: str | None
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None

    @classmethod
    def of(cls, user: User) -> "ListedUser":
        return cls(
            user.id,
            user.email.value,
            user.username.value,
            user.full_name.value if user.full_name is not None else None,
            user.is_active,
            user.is_verified,
            tuple(sorted(user.roles)),
            user.oauth_provider,
            user.created_at,
            user.updated_at,
            user.last_login_at,
            user.locked_until,
        )

    def is_locked(self, now: datetime) -> bool:
        return locked_at(self.locked_until, now)


class UserRepository(Protocol):
    """Users inside one unit of work. Never commits.

    `add` and `update` raise `EmailAlreadyRegisteredError` / `UsernameTakenError` when a
    unique constraint is hit (possibly only at commit); reads return detached copies, so
    a change counts only once it is passed to `update`.

    Read-modify-write use cases read with `for_update=True`: the row stays locked until
    the transaction ends, so two of them on one account take turns instead of one
    silently overwriting the other (a lost update under READ COMMITTED).
    """

    @abstractmethod
    async def add(self, user: User) -> None: ...

    @abstractmethod
    async def update(self, user: User) -> None: ...

    @abstractmethod
    async def delete(self, user_id: UUID) -> None: ...

    @abstractmethod
    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None: ...

    @abstractmethod
    async def get_by_email(self, email: Email) -> User | None: ...

    @abstractmethod
    async def get_by_username(self, username: Username) -> User | None: ...

    @abstractmethod
    async def list(self, *, filter: UserFilter, after: UUID | None, limit: int) -> list[ListedUser]:
        """Up to `limit` users with id greater than `after`, in id (creation) order."""

    @abstractmethod
    async def reserve_login_attempt(
        self, user_id: UUID, *, now: datetime, threshold: int
    ) -> int | None:
        """Atomically count one more consecutive failed login before the password is
        checked. Returns the attempt's number (1..threshold), or None when the account
        is locked at `now` or its budget of `threshold` unanswered attempts is spent, so
        that concurrent guesses can never get more than `threshold` passwords checked.
        A successful login resets the count (`User.record_login`)."""

    @abstractmethod
    async def count_active_admins(self, *, lock: bool = False) -> int:
        """With `lock`, the active administrators stay locked (in id order, so concurrent
        callers cannot deadlock) until the transaction ends: the "last administrator"
        rule then holds even when two administrators demote each other at once."""
