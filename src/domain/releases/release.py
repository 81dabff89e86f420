"""A release: one version of one service, and where it stands in its life."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.common.aggregate import Aggregate
from domain.common.errors import InvalidValueError
from domain.releases.errors import IllegalStatusMoveError, ReleaseNotDeployableError
from domain.releases.events import ReleaseCreated, ReleaseNotesChanged, ReleaseStatusChanged
from domain.releases.values import SemVer, ServiceName

NOTES_MAX = 10_000


class ReleaseStatus(StrEnum):
    DRAFT = "draft"
    READY = "ready"
    DEPRECATED = "deprecated"


# The only moves there are; staying put is no move (and no event).
RELEASE_MOVES: dict[ReleaseStatus, frozenset[ReleaseStatus]] = {
    ReleaseStatus.DRAFT: frozenset({ReleaseStatus.READY, ReleaseStatus.DEPRECATED}),
    ReleaseStatus.READY: frozenset({ReleaseStatus.DEPRECATED}),
    ReleaseStatus.DEPRECATED: frozenset(),
}


def release_notes(raw: str | None) -> str | None:
    if raw is None:
        return None
    if len(raw) > NOTES_MAX:
        raise InvalidValueError(f"notes must be at most {NOTES_MAX} characters", field="notes")
    return raw


@dataclass(eq=False, kw_only=True)
class Release(Aggregate):
    id: UUID
    name: ServiceName
    version: SemVer
    status: ReleaseStatus
    notes: str | None
    created_by: UUID | None
    created_at: datetime
    updated_at: datetime
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Release) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        name: ServiceName,
        version: SemVer,
        notes: str | None,
        created_by: UUID | None,
        now: datetime,
    ) -> "Release":
        release = cls(
            id=id,
            name=name,
            version=version,
            status=ReleaseStatus.DRAFT,
            notes=release_notes(notes),
            created_by=created_by,
            created_at=now,
            updated_at=now,
        )
        release.record(
            ReleaseCreated(occurred_at=now, release_id=id, name=name.value, version=version.value)
        )
        return release

    def move_to(self, status: ReleaseStatus, *, now: datetime) -> None:
        if status == self.status:
            return
        if status not in RELEASE_MOVES[self.status]:
            raise IllegalStatusMoveError(
                f"rule release-status: a release cannot move from {self.status.value} "
                f"to {status.value} (draft -> ready, ready -> deprecated, draft -> deprecated)"
            )
        previous, self.status, self.updated_at = self.status, status, now
        self.record(
            ReleaseStatusChanged(
                occurred_at=now, release_id=self.id, previous=previous.value, status=status.value
            )
        )

    def change_notes(self, notes: str | None, *, now: datetime) -> None:
        notes = release_notes(notes)
        if notes == self.notes:
            return
        self.notes, self.updated_at = notes, now
        self.record(ReleaseNotesChanged(occurred_at=now, release_id=self.id))

    def ensure_deployable(self) -> None:
        if self.status != ReleaseStatus.READY:
            raise ReleaseNotDeployableError(
                f"rule deploy-ready-only: only a ready release can be deployed; "
                f"{self.name}@{self.version} is {self.status.value}"
            )
