"""The User aggregate."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from domain.access.roles import Role
from domain.common.aggregate import Aggregate
from domain.identity.events import (
    AccountLocked,
    AccountUnlocked,
    EmailVerified,
    PasswordChanged,
    PasswordReset,
    RolesAssigned,
    UserCreated,
    UserDeactivated,
    UserDeleted,
    UserLoggedIn,
    UserRegistered,
    UserUpdated,
)
from domain.identity.value_objects import Email, FullName, Username


@dataclass(eq=False, kw_only=True)
class User(Aggregate):
    """A person or service account. Compares by id.

    `password_hash` is None for accounts that only sign in through an external provider.
    """

    id: UUID
    email: Email
    username: Username
    full_name: FullName | None
    password_hash: str | None = field(repr=False)
    is_active: bool
    is_verified: bool
    roles: frozenset[str]
    """Role names; what they grant is looked up in the role store on every request."""
    oauth_provider: str | None
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None = None
    failed_logins: int = 0
    """Consecutive failed logins since the last success or lock."""
    locked_until: datetime | None = None
    lockouts: int = 0
    """Locks since the last successful login: each one lasts twice as long."""
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def register(
        cls,
        *,
        id: UUID,
        email: Email,
        username: Username,
        full_name: FullName | None,
        password_hash: str | None,
        now: datetime,
        roles: frozenset[str] = frozenset({Role.USER}),
        oauth_provider: str | None = None,
        is_active: bool = True,
        is_verified: bool = False,
        created_by_admin: bool = False,
    ) -> "User":
        user = cls(
            id=id,
            email=email,
            username=username,
            full_name=full_name,
            password_hash=password_hash,
            is_active=is_active,
            is_verified=is_verified,
            roles=roles,
            oauth_provider=oauth_provider,
            created_at=now,
            updated_at=now,
        )
        event = UserCreated if created_by_admin else UserRegistered
        user.record(event(occurred_at=now, user_id=id))
        return user

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    def record_login(self, *, session_id: UUID, now: datetime) -> None:
        self.last_login_at = now
        self.failed_logins = 0
        self.lockouts = 0
        self.locked_until = None
        self.record(UserLoggedIn(occurred_at=now, user_id=self.id, session_id=session_id))

    def clear_failed_logins(self) -> None:
        """The right password was given, even if the login goes no further."""
        self.failed_logins = 0

    def release_failed_login(self) -> None:
        """An attempt that was counted but never judged (the check itself failed)."""
        self.failed_logins = max(0, self.failed_logins - 1)

    def is_locked(self, now: datetime) -> bool:
        return locked_at(self.locked_until, now)

    def lock(self, *, now: datetime, base: timedelta, ceiling: timedelta) -> None:
        """Lock after too many failures; each lock since the last success lasts twice as
        long as the one before, up to `ceiling` (OWASP Authentication Cheat Sheet:
        exponential lockout slows guessing without locking people out for good)."""
        period = min(base * (2**self.lockouts), ceiling)
        self.locked_until = now + period
        self.lockouts += 1
        self.failed_logins = 0
        self.record(AccountLocked(occurred_at=now, user_id=self.id, until=self.locked_until))

    def unlock(self, *, now: datetime) -> bool:
        if self.locked_until is None and self.failed_logins == 0 and self.lockouts == 0:
            return False
        self.locked_until = None
        self.failed_logins = 0
        self.lockouts = 0
        self.updated_at = now
        self.record(AccountUnlocked(occurred_at=now, user_id=self.id))
        return True

    def verify_email(self, *, now: datetime) -> None:
        if not self.is_verified:
            self.is_verified = True
            self.updated_at = now
        self.record(EmailVerified(occurred_at=now, user_id=self.id))

    def reset_password(self, new_hash: str, *, now: datetime) -> None:
        """Proving the mailbox proves who you are: a lockout ends with the reset."""
        self.password_hash = new_hash
        self.updated_at = now
        self.record(PasswordReset(occurred_at=now, user_id=self.id))
        self.unlock(now=now)

    def assign_roles(self, roles: frozenset[str], *, now: datetime) -> bool:
        if roles == self.roles:
            return False
        self.roles = roles
        self.updated_at = now
        self.record(RolesAssigned(occurred_at=now, user_id=self.id, roles=tuple(sorted(roles))))
        return True

    def change_password(self, new_hash: str, *, now: datetime) -> None:
        self.password_hash = new_hash
        self.updated_at = now
        self.record(PasswordChanged(occurred_at=now, user_id=self.id))

    def upgrade_password_hash(self, new_hash: str) -> None:
        """Same password, stronger hash parameters: not a change the user made."""
        self.password_hash = new_hash

    def update(
        self,
        *,
        now: datetime,
        email: Email | None = None,
        username: Username | None = None,
        full_name: FullName | None = None,
        clear_full_name: bool = False,
        is_active: bool | None = None,
        is_verified: bool | None = None,
        roles: frozenset[str] | None = None,
    ) -> tuple[str, ...]:
        """Apply the given changes; return the names of the fields that really changed.

        A new email address is unverified until proven again, unless `is_verified` is
        given explicitly (an administrator vouching for it).
        """
        changed: list[str] = []
        was_verified = self.is_verified
        if email is not None and email != self.email:
            self.email = email
            self.is_verified = False
            changed.append("email")
        if username is not None and username != self.username:
            self.username = username
            changed.append("username")
        new_full_name = None if clear_full_name else full_name
        if (clear_full_name or full_name is not None) and new_full_name != self.full_name:
            self.full_name = new_full_name
            changed.append("full_name")
        if is_verified is not None:
            self.is_verified = is_verified
        if self.is_verified != was_verified:
            changed.append("is_verified")
        if roles is not None and roles != self.roles:
            self.roles = roles
            changed.append("roles")
            self.record(RolesAssigned(occurred_at=now, user_id=self.id, roles=tuple(sorted(roles))))
        if is_active is not None and is_active != self.is_active:
            self.is_active = is_active
            changed.append("is_active")
            if not is_active:
                self.record(UserDeactivated(occurred_at=now, user_id=self.id))
        if changed:
            self.updated_at = now
            self.record(UserUpdated(occurred_at=now, user_id=self.id, fields=tuple(changed)))
        return tuple(changed)

    def mark_deleted(self, *, now: datetime, session_ids: Iterable[UUID] = ()) -> None:
        """`session_ids`: the account's live sessions, which end with it."""
        ended = tuple(str(s) for s in session_ids)
        self.record(UserDeleted(occurred_at=now, user_id=self.id, session_ids=ended))


def locked_at(locked_until: datetime | None, now: datetime) -> bool:
    """Whether an account locked until `locked_until` (None: never locked) is locked at
    `now`: the one rule for `User` and for a listed user."""
    return locked_until is not None and now < locked_until
