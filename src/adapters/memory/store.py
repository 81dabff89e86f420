import asyncio
import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar
from uuid import UUID

from domain.session import AuthSession, RefreshTokenRecord
from domain.user import User

T = TypeVar("T")


@dataclass(slots=True)
class Tables:
    """One consistent state of the data. Values are private copies that are replaced,
    never mutated, so copying the dicts is enough to branch a transaction off."""

    users: dict[UUID, User] = field(default_factory=dict)
    sessions: dict[UUID, AuthSession] = field(default_factory=dict)
    refresh_tokens: dict[str, RefreshTokenRecord] = field(default_factory=dict)

    def branch(self) -> "Tables":
        return Tables(dict(self.users), dict(self.sessions), dict(self.refresh_tokens))


class InMemoryStore:
    """The "database": committed state shared by every `InMemoryUnitOfWork` built on it.

    One lock is held for a whole transaction, so transactions run one at a time
    (serializable, like SQLite with BEGIN IMMEDIATE). A unit of work must therefore not
    open a second one on the same store while it is still open.
    """

    def __init__(self) -> None:
        self.committed = Tables()
        self.lock = asyncio.Lock()


def detached(entity: T) -> T:
    """A copy that shares nothing mutable with `entity`, events dropped (they belong to
    the caller's object, not to the stored state)."""
    clone = copy.deepcopy(entity)
    if isinstance(clone, User | AuthSession):
        clone._events = []
    return clone


def utc(value: datetime) -> datetime:
    """What the SQL adapter stores: the same instant in UTC; naive input refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime refused: {value!r}")
    return value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)
