from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotencyRecord:
    """The first answer to a request made with an `Idempotency-Key`."""

    scope: str
    """Whose key, for which operation (`<caller>:<operation>`): keys of different
    callers never meet."""
    key: str
    fingerprint: str
    """A digest of the request body: the same key with another body is refused."""
    status: int
    resource_id: UUID
    created_at: datetime


class IdempotencyRepository(Protocol):
    """Idempotency records inside one unit of work. Never commits.

    `add` raises `IdempotencyKeyInUseError` when (scope, key) is taken, at the call, so
    of two concurrent requests with one key only one commits its change. `get` ignores
    records created before `not_before` (expired), and `add` replaces an expired one.
    """

    @abstractmethod
    async def get(
        self, scope: str, key: str, *, not_before: datetime
    ) -> IdempotencyRecord | None: ...

    @abstractmethod
    async def add(self, record: IdempotencyRecord, *, not_before: datetime) -> None: ...

    @abstractmethod
    async def prune(self, *, before: datetime, limit: int) -> int:
        """Delete up to `limit` records created before `before`; how many went."""
