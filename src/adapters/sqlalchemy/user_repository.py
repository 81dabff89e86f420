from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, bindparam, delete, or_, select, update
from sqlalchemy import exc as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import Select

from adapters.sqlalchemy.errors import is_foreign_key_violation, translated
from adapters.sqlalchemy.models import UserRoleRow, UserRow, table_of
from adapters.sqlalchemy.user_listing import read_user_page
from application.errors import UserNotFoundError
from application.ports.user_repository import ListedUser, UserFilter, UserRepository
from domain.access.roles import Role, UnknownRoleError
from domain.identity.user import User
from domain.identity.value_objects import Email, FullName, Username

_USERS_TABLE = table_of(UserRow)
_ROLES_TABLE = table_of(UserRoleRow)
_USERS = _USERS_TABLE.c
_ROLES = _ROLES_TABLE.c
# On the table, not the mapped class: a plain Core UPDATE, built once, without the ORM's
# bulk-update handling (every login reserves an attempt).
_RESERVE_ATTEMPT = (
    update(_USERS_TABLE)
    .where(
        _USERS.id == bindparam("user_id"),
        _USERS.failed_logins < bindparam("threshold"),
        or_(_USERS.locked_until.is_(None), _USERS.locked_until <= bindparam("now")),
    )
    .values(failed_logins=_USERS.failed_logins + 1)
    .returning(_USERS.failed_logins)
)


class SqlAlchemyUserRepository(UserRepository):
    """Users in the `users` and `user_roles` tables, inside the caller's session.

    Never commits. `add` and `update` write at the call, inside a savepoint whenever the
    write can be refused (a name or the roles change), so a unique violation raises
    `EmailAlreadyRegisteredError` / `UsernameTakenError` there and leaves the rest of the
    transaction usable; a role name missing from `roles` (the foreign key) raises
    `UnknownRoleError`. An `update` that changes neither since the user was read (a
    login's timestamps and counters) is one plain UPDATE, without savepoint or flush.
    Reads are Core statements and return fresh entities; changing one has no effect
    until it is passed to `update`.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # The ORM rows a rename or a role change loaded in this unit of work. The
        # session's identity map holds them only weakly, so without this a second such
        # `update` would read the user again.
        self._read: dict[UUID, UserRow] = {}
        # The names and roles of each user as read in this unit of work (Core reads, no
        # ORM row): an `update` that changes none of them is a plain UPDATE.
        self._seen: dict[UUID, tuple[str, str, frozenset[str]]] = {}

    @translated
    async def add(self, user: User) -> None:
        async with _roles_must_exist(), self._session.begin_nested():
            self._session.add(_to_row(user))

    @translated
    async def update(self, user: User) -> None:
        if self._seen.get(user.id) == _identity(user):
            await self._update_plain(user)
            return
        row = self._read.get(user.id)
        if row is None or row not in self._session:
            row = await self._get_row(user.id)
        if row is None:
            raise UserNotFoundError()
        if _may_be_refused(row, user):
            # In a savepoint, so the transaction outlives a refusal (taken name, role gone).
            async with _roles_must_exist(), self._session.begin_nested():
                _copy_onto(row, user)
        else:
            _copy_onto(row, user)
            await self._session.flush()
        self._seen[user.id] = _identity(user)

    async def _update_plain(self, user: User) -> None:
        """Neither a name nor the roles changed since the read (a login's timestamps and
        counters, a lock, a new hash): one Core UPDATE, no constraint it could break, so
        no savepoint and no flush."""
        values = _plain_values(user)
        changed = await self._session.execute(_UPDATE_PLAIN, {"user_id": user.id, **values})
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise UserNotFoundError()
        self._written_past_orm(user.id, values)

    def _written_past_orm(self, user_id: UUID, values: dict[str, Any]) -> None:
        """A Core statement wrote `values`: a row the ORM loaded in this transaction takes
        them as its committed state, or a later flush would compare against the old ones
        (and later reads would show them)."""
        cached = self._session.identity_map.get(self._session.identity_key(UserRow, user_id))
        if isinstance(cached, UserRow):
            for name, value in values.items():
                set_committed_value(cached, name, value)

    @translated
    async def delete(self, user_id: UUID) -> None:
        await self._session.execute(delete(UserRow).where(UserRow.id == user_id))
        # The database cascaded to roles, sessions and refresh tokens; rows cached in the
        # identity map would now lie. Writes are flushed as they happen, so nothing
        # pending is lost by forgetting them.
        self._session.expunge_all()
        self._read.clear()
        self._seen.clear()

    @translated
    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None:
        return await self._read_one(_FOR_UPDATE if for_update else _BY_ID, user_id)

    @translated
    async def get_by_email(self, email: Email) -> User | None:
        return await self._read_one(_BY_EMAIL, email.value)

    @translated
    async def get_by_username(self, username: Username) -> User | None:
        return await self._read_one(_BY_USERNAME, username.value)

    @translated
    async def list(self, *, filter: UserFilter, after: UUID | None, limit: int) -> list[ListedUser]:
        return await read_user_page(self._session, filter=filter, after=after, limit=limit)

    @translated
    async def reserve_login_attempt(
        self, user_id: UUID, *, now: datetime, threshold: int
    ) -> int | None:
        # One conditional UPDATE: the row lock (PostgreSQL) or the write lock (SQLite,
        # BEGIN IMMEDIATE) makes racing callers take turns, and each re-checks the budget
        # on the row as the previous one left it, so no more than `threshold` attempts are
        # ever handed out between two resets (OWASP ASVS 2.2.1: anti-automation).
        reserved = await self._session.execute(
            _RESERVE_ATTEMPT, {"user_id": user_id, "now": now, "threshold": threshold}
        )
        attempt: int | None = reserved.scalar_one_or_none()
        if attempt is not None:
            self._written_past_orm(user_id, {"failed_logins": attempt})
        return attempt

    @translated
    async def count_active_admins(self, *, lock: bool = False) -> int:
        query = (
            select(UserRow.id)
            .join(UserRoleRow)
            .where(UserRow.is_active.is_(True), UserRoleRow.role_name == Role.ADMIN.value)
            .order_by(UserRow.id)
        )
        if lock:
            # Lock first, count after: under READ COMMITTED a statement that waited for a
            # lock re-checks only the locked `users` rows, not the joined role rows a
            # concurrent demotion changed, so the count must come from a new statement
            # (a new snapshot). SQLite has no FOR UPDATE (SQLAlchemy leaves it out); its
            # transactions are serialized by BEGIN IMMEDIATE instead.
            await self._session.execute(query.with_for_update(of=UserRow))
        return len((await self._session.scalars(query)).all())

    async def _get_row(self, user_id: UUID, *, for_update: bool = False) -> UserRow | None:
        row = await self._session.get(
            UserRow,
            user_id,
            options=[joinedload(UserRow.roles)],
            # OF users: PostgreSQL locks no row on the nullable side of the roles' join.
            with_for_update={"of": UserRow} if for_update else None,
            populate_existing=for_update,
        )
        if row is not None:
            self._read[user_id] = row
        return row

    async def _read_one(self, query: Select[Any], key: object) -> User | None:
        rows = (await self._session.execute(query, {"key": key})).all()
        if not rows:
            return None
        user = _to_entity(rows)
        self._seen[user.id] = _identity(user)
        return user


@asynccontextmanager
async def _roles_must_exist() -> AsyncIterator[None]:
    # The only foreign key a user write can break is user_roles -> roles (the user row
    # itself is written in the same flush); PostgreSQL names it, SQLite does not.
    try:
        yield
    except sa.IntegrityError as error:
        if is_foreign_key_violation(error):
            raise UnknownRoleError("unknown role") from error
        raise


def _select_user(where: ColumnElement[bool]) -> Select[Any]:
    # The roles joined in: one statement per user read, not a second for the roles; one
    # row per role (one with no role for a user without any).
    return (
        select(_USERS_TABLE, _ROLES.role_name)
        .outerjoin(_ROLES_TABLE, _ROLES.user_id == _USERS.id)
        .where(where)
    )


# User reads as Core statements built once: the rows become entities directly, with no
# ORM objects, identity map or role collections in between (every login reads its user
# twice). OF users: PostgreSQL locks no row on the nullable side of the roles' join.
_BY_ID = _select_user(_USERS.id == bindparam("key"))
_FOR_UPDATE = _BY_ID.with_for_update(of=_USERS_TABLE)
_BY_EMAIL = _select_user(_USERS.email == bindparam("key"))
_BY_USERNAME = _select_user(_USERS.username == bindparam("key"))


def _to_entity(rows: Sequence[Row[Any]]) -> User:
    row = rows[0]
    return User(
        id=row.id,
        email=Email(row.email),
        username=Username(row.username),
        full_name=FullName(row.full_name) if row.full_name is not None else None,
        password_hash=row.password_hash,
        is_active=row.is_active,
        is_verified=row.is_verified,
        roles=frozenset(r.role_name for r in rows if r.role_name is not None),
        oauth_provider=row.oauth_provider,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_login_at=row.last_login_at,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        lockouts=row.lockouts,
    )


def _identity(user: User) -> tuple[str, str, frozenset[str]]:
    """What a write of `user` could conflict on: its names (unique) and its roles
    (the foreign key to `roles`)."""
    return user.email.value, user.username.value, frozenset(str(role) for role in user.roles)


def _plain_values(user: User) -> dict[str, Any]:
    return {
        "full_name": user.full_name.value if user.full_name is not None else None,
        "password_hash": user.password_hash,
        "is_active": user.is_active,
        "is_verified": user.is_verified,
        "oauth_provider": user.oauth_provider,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login_at": user.last_login_at,
        "failed_logins": user.failed_logins,
        "locked_until": user.locked_until,
        "lockouts": user.lockouts,
    }


# SET takes the columns the parameters name (those of `_plain_values`).
_UPDATE_PLAIN = update(_USERS_TABLE).where(_USERS.id == bindparam("user_id"))


def _to_row(user: User) -> UserRow:
    row = UserRow(id=user.id, roles=[])
    _copy_onto(row, user)
    return row


def _may_be_refused(row: UserRow, user: User) -> bool:
    """Whether writing `user` over `row` touches a constraint: a unique name or a role."""
    return (
        row.email != user.email.value
        or row.username != user.username.value
        or {r.role_name for r in row.roles} != {str(role) for role in user.roles}
    )


def _copy_onto(row: UserRow, user: User) -> None:
    row.email = user.email.value
    row.username = user.username.value
    for name, value in _plain_values(user).items():
        setattr(row, name, value)
    wanted = {str(role) for role in user.roles}
    kept = [r for r in row.roles if r.role_name in wanted]
    have = {r.role_name for r in kept}
    # Replacing the list lets delete-orphan remove dropped roles; unchanged ones stay.
    row.roles = kept + [
        UserRoleRow(user_id=user.id, role_name=name) for name in sorted(wanted - have)
    ]
