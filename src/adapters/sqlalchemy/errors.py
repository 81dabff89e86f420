"""Translation of database failures into application errors.

Two families matter to callers: "the database cannot serve now" (retry later, 503) and
"a unique constraint refused the write" (409). A pooled connection not freed in time is
the first family's `StorageBusyError`: load, not a failure of the database, so the
circuit breaker ignores it. A user given a role that does not exist
(deleted meanwhile) is refused as `UnknownRoleError`. Anything else is a bug and
propagates.
"""

import sqlite3
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import asyncpg.exceptions as pg
from sqlalchemy import exc as sa

from adapters.sqlalchemy.models import (
    API_KEYS_PREFIX_CONSTRAINT,
    DEPLOYMENTS_ONE_ACTIVE_INDEX,
    ENVIRONMENTS_PRIMARY_KEY,
    EXTERNAL_IDENTITIES_PRIMARY_KEY,
    IDEMPOTENCY_PRIMARY_KEY,
    RELEASES_NAME_VERSION_CONSTRAINT,
    ROLES_PRIMARY_KEY,
    SERVICE_CLIENTS_PRIMARY_KEY,
    SIGNING_KEYS_PRIMARY_KEY,
    USER_ROLES_ROLE_FOREIGN_KEY,
    USERS_EMAIL_CONSTRAINT,
    USERS_USERNAME_CONSTRAINT,
)
from application.errors import (
    ConflictError,
    EmailAlreadyRegisteredError,
    EnvironmentExistsError,
    IdempotencyKeyInUseError,
    ReleaseExistsError,
    RoleExistsError,
    StorageBusyError,
    StorageUnavailableError,
    UsernameTakenError,
)
from domain.access.roles import UnknownRoleError
from domain.common.errors import DomainError
from domain.releases.errors import EnvironmentBusyError

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa.OperationalError,  # includes SQLite "database is locked" after the busy timeout
    sa.InterfaceError,
    sa.DisconnectionError,
    OSError,  # ConnectionError, refused or reset sockets, an unreadable database file
    TimeoutError,
    pg.PostgresConnectionError,  # SQLSTATE class 08
    pg.OperatorInterventionError,  # class 57: shutdown, cannot connect now, cancelled
    pg.TooManyConnectionsError,
    pg.InterfaceError,
    # Raised by the driver itself where a read bypasses SQLAlchemy's execution
    # (`user_listing`): the same failures as sa.OperationalError above.
    sqlite3.OperationalError,
)

# SQLite names columns instead of constraints: "UNIQUE constraint failed: users.email".
_UNIQUE_VIOLATIONS: tuple[tuple[str, str, type[DomainError]], ...] = (
    (USERS_EMAIL_CONSTRAINT, "users.email", EmailAlreadyRegisteredError),
    (USERS_USERNAME_CONSTRAINT, "users.username", UsernameTakenError),
    (ROLES_PRIMARY_KEY, "roles.name", RoleExistsError),
    # Prefixes are random: a clash is a (retryable) conflict, not a user's mistake.
    (API_KEYS_PREFIX_CONSTRAINT, "api_keys.prefix", ConflictError),
    (SERVICE_CLIENTS_PRIMARY_KEY, "service_clients.client_id", ConflictError),
    (SIGNING_KEYS_PRIMARY_KEY, "signing_keys.kid", ConflictError),
    # The releases context.
    (RELEASES_NAME_VERSION_CONSTRAINT, "releases.name, releases.version", ReleaseExistsError),
    (ENVIRONMENTS_PRIMARY_KEY, "environments.name", EnvironmentExistsError),
    (DEPLOYMENTS_ONE_ACTIVE_INDEX, "deployments.environment", EnvironmentBusyError),
    (IDEMPOTENCY_PRIMARY_KEY, "idempotency_records.scope", IdempotencyKeyInUseError),
    (EXTERNAL_IDENTITIES_PRIMARY_KEY, "external_identities.provider", ConflictError),
)


def translate(error: BaseException) -> DomainError | None:
    """The application error `error` stands for, or None when it is not ours to map."""
    if isinstance(error, DomainError):
        return None
    if isinstance(error, sa.IntegrityError):
        return _conflict(error)
    if _in_chain(error, sa.TimeoutError):  # no pooled connection came free in time
        return StorageBusyError()
    if _is_unavailable(error):
        return StorageUnavailableError()
    return None


@contextmanager
def translating() -> Iterator[None]:
    """Raise the mapped application error (chained to the original) in place of a
    database failure."""
    try:
        yield
    except Exception as error:
        mapped = translate(error)
        if mapped is None:
            raise
        raise mapped from error


P = ParamSpec("P")
T = TypeVar("T")


def translated(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Database failures leave a repository method as application errors, so a use case
    can react inside its unit of work (a conflict is a `ConflictError` right at `add`)."""

    @wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with translating():
            return await method(*args, **kwargs)

    return wrapper


def _conflict(error: sa.IntegrityError) -> DomainError | None:
    constraint = getattr(_driver_error(error), "constraint_name", None)
    message = str(error.orig)
    for name, sqlite_column, mapped in _UNIQUE_VIOLATIONS:
        if constraint == name or f"UNIQUE constraint failed: {sqlite_column}" in message:
            return mapped()
    if constraint == USER_ROLES_ROLE_FOREIGN_KEY:
        return UnknownRoleError("unknown role")
    return None


def is_foreign_key_violation(error: BaseException) -> bool:
    """SQLite names no constraint in "FOREIGN KEY constraint failed"; a caller that knows
    which foreign key its statement can break maps it itself."""
    return isinstance(error, sa.IntegrityError) and "FOREIGN KEY constraint failed" in str(
        error.orig
    )


def _driver_error(error: sa.DBAPIError) -> BaseException | None:
    # SQLAlchemy wraps the adapted DBAPI error, which wraps the asyncpg exception.
    orig = error.orig
    return orig.__cause__ if orig is not None and orig.__cause__ is not None else orig


# SQLite reports a table or column that is not there as an OperationalError, the class it
# also uses for a locked or unreadable file. That is a schema not migrated (readiness
# says so), not an outage: counted as one it would open the circuit breaker.
_SQLITE_SCHEMA_MISSING = ("no such table", "no such column", "has no column named")


def _is_schema_missing(error: BaseException) -> bool:
    return isinstance(error, sa.OperationalError) and any(
        marker in str(error.orig) for marker in _SQLITE_SCHEMA_MISSING
    )


def _is_unavailable(error: BaseException) -> bool:
    if _is_schema_missing(error):
        return False
    return any(
        isinstance(current, _UNAVAILABLE)
        or (isinstance(current, sa.DBAPIError) and current.connection_invalidated)
        for current in _chain(error)
    )


def _in_chain(error: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(current, kind) for current in _chain(error))


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error`, then what it wraps (a DBAPI error's driver error) or was raised from."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, sa.DBAPIError) and current.orig is not None:
            current = current.orig
        else:
            current = current.__cause__
