from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.releases.deployment import Deployment, DeploymentStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentFilter:
    environment: str | None = None
    release_id: UUID | None = None
    status: DeploymentStatus | None = None


class DeploymentRepository(Protocol):
    """Deployments inside one unit of work. Never commits.

    One environment holds at most one deployment `pending` or `in_progress`: `add` (and
    `update`, for a move back to active, which the domain never makes) raises
    `EnvironmentBusyError` otherwise, at the call. The database decides (a partial
    unique index), so of N concurrent requests on any number of instances one wins.
    """

    @abstractmethod
    async def add(self, deployment: Deployment) -> None: ...

    @abstractmethod
    async def update(self, deployment: Deployment) -> None: ...

    @abstractmethod
    async def get(self, deployment_id: UUID, *, for_update: bool = False) -> Deployment | None: ...

    @abstractmethod
    async def list(
        self, *, filter: DeploymentFilter, before: UUID | None, limit: int
    ) -> list[Deployment]:
        """Up to `limit` deployments with id less than `before`, newest first."""

    @abstractmethod
    async def succeeded_environments(self, release_id: UUID) -> frozenset[str]:
        """The environments where this release has a deployment that succeeded."""
