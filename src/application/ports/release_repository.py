from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.releases.release import Release, ReleaseStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseFilter:
    name: str | None = None
    status: ReleaseStatus | None = None


class ReleaseRepository(Protocol):
    """Releases inside one unit of work. Never commits.

    `add` raises `ReleaseExistsError` when the name and version are taken, at the call
    (a unique constraint decides, so concurrent creations give one winner). Reads return
    detached copies; `for_update=True` locks the row until the transaction ends.
    """

    @abstractmethod
    async def add(self, release: Release) -> None: ...

    @abstractmethod
    async def update(self, release: Release) -> None: ...

    @abstractmethod
    async def get(self, release_id: UUID, *, for_update: bool = False) -> Release | None: ...

    @abstractmethod
    async def list(
        self, *, filter: ReleaseFilter, before: UUID | None, limit: int
    ) -> list[Release]:
        """Up to `limit` releases with id less than `before`, newest (highest id) first."""
