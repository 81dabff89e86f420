"""What happens to releases, environments and deployments: past-tense facts, recorded
by the aggregates and written to the outbox with their audit rows."""

from dataclasses import dataclass
from uuid import UUID

from domain.common.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseCreated(DomainEvent):
    release_id: UUID
    name: str
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseStatusChanged(DomainEvent):
    release_id: UUID
    previous: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseNotesChanged(DomainEvent):
    release_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvironmentCreated(DomainEvent):
    environment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentCreated(DomainEvent):
    deployment_id: UUID
    release_id: UUID
    environment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentStatusChanged(DomainEvent):
    deployment_id: UUID
    release_id: UUID
    environment: str
    previous: str
    status: str
    duration_seconds: float | None = None
    """From the start (or the request, if it never started) to the end, once finished."""
