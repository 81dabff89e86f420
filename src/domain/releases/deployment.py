"""A deployment: one release going to one environment."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.common.aggregate import Aggregate
from domain.common.errors import InvalidValueError
from domain.releases.errors import IllegalStatusMoveError
from domain.releases.events import DeploymentCreated, DeploymentStatusChanged
from domain.releases.release import Release
from domain.releases.values import EnvironmentName, SemVer, ServiceName

MESSAGE_MAX = 2_000


class DeploymentStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


DEPLOYMENT_MOVES: dict[DeploymentStatus, frozenset[DeploymentStatus]] = {
    DeploymentStatus.PENDING: frozenset({DeploymentStatus.IN_PROGRESS, DeploymentStatus.CANCELLED}),
    DeploymentStatus.IN_PROGRESS: frozenset({DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED}),
    DeploymentStatus.SUCCEEDED: frozenset(),
    DeploymentStatus.FAILED: frozenset(),
    DeploymentStatus.CANCELLED: frozenset(),
}
# Holding the environment: at most one per environment (a unique index says so too).
ACTIVE = frozenset({DeploymentStatus.PENDING, DeploymentStatus.IN_PROGRESS})


def deployment_message(raw: str | None) -> str | None:
    if raw is not None and len(raw) > MESSAGE_MAX:
        raise InvalidValueError(
            f"message must be at most {MESSAGE_MAX} characters", field="message"
        )
    return raw


@dataclass(eq=False, kw_only=True)
class Deployment(Aggregate):
    id: UUID
    release_id: UUID
    release_name: ServiceName
    version: SemVer
    environment: EnvironmentName
    status: DeploymentStatus
    message: str | None
    requested_by: UUID | None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Deployment) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def request(
        cls,
        *,
        id: UUID,
        release: Release,
        environment: EnvironmentName,
        requested_by: UUID | None,
        now: datetime,
    ) -> "Deployment":
        release.ensure_deployable()
        deployment = cls(
            id=id,
            release_id=release.id,
            release_name=release.name,
            version=release.version,
            environment=environment,
            status=DeploymentStatus.PENDING,
            message=None,
            requested_by=requested_by,
            created_at=now,
        )
        deployment.record(
            DeploymentCreated(
                occurred_at=now,
                deployment_id=id,
                release_id=release.id,
                environment=environment.value,
            )
        )
        return deployment

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def move_to(self, status: DeploymentStatus, *, message: str | None, now: datetime) -> None:
        if status not in DEPLOYMENT_MOVES[self.status]:
            raise IllegalStatusMoveError(
                f"rule deployment-status: a deployment cannot move from {self.status.value} "
                f"to {status.value} (pending -> in_progress | cancelled, "
                "in_progress -> succeeded | failed)"
            )
        message = deployment_message(message)
        previous, self.status = self.status, status
        if message is not None:
            self.message = message
        if status == DeploymentStatus.IN_PROGRESS:
            self.started_at = now
        duration = None
        if not self.active:
            self.finished_at = now
            duration = (now - (self.started_at or self.created_at)).total_seconds()
        self.record(
            DeploymentStatusChanged(
                occurred_at=now,
                deployment_id=self.id,
                release_id=self.release_id,
                environment=self.environment.value,
                previous=previous.value,
                status=status.value,
                duration_seconds=duration,
            )
        )
