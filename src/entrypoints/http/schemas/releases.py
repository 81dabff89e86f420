"""Release, environment and deployment shapes on the wire (API.md, "Releases and
deployments"). The patterns are the domain's, so the document carries them."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, StrictBool

from domain.releases.deployment import MESSAGE_MAX, Deployment
from domain.releases.environment import REQUIRES_MAX, Environment
from domain.releases.release import NOTES_MAX, Release
from domain.releases.values import NAME_PATTERN, SEMVER_PATTERN, VERSION_MAX
from entrypoints.http.schemas.users import Input

# JSON Schema (ECMA 262) and pydantic's Rust regex both read `[0-9]` as ASCII digits;
# `\d` is Unicode digits in the latter.
_SEMVER_SCHEMA_PATTERN = SEMVER_PATTERN.replace(r"\d", "[0-9]")

ServiceNameField = Annotated[
    str,
    Field(pattern=NAME_PATTERN, max_length=63, examples=["billing-api"]),
]
VersionField = Annotated[
    str,
    Field(
        pattern=_SEMVER_SCHEMA_PATTERN,
        max_length=VERSION_MAX,
        description="SemVer 2.0.0",
        examples=["1.4.0"],
    ),
]
EnvironmentNameField = Annotated[
    str, Field(pattern=NAME_PATTERN, max_length=63, examples=["staging"])
]
ReleaseStatusField = Literal["draft", "ready", "deprecated"]
DeploymentStatusField = Literal["pending", "in_progress", "succeeded", "failed", "cancelled"]
NotesField = Annotated[str, Field(max_length=NOTES_MAX)]
# Printable ASCII without spaces: survives every HTTP stack unchanged.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"


class ReleaseCreateIn(Input):
    name: ServiceNameField
    version: VersionField
    notes: NotesField | None = None


class ReleasePatchIn(Input):
    status: ReleaseStatusField | None = None
    notes: NotesField | None = Field(default=None, description="null clears the notes")


class ReleaseOut(BaseModel):
    id: UUID
    name: str
    version: str
    status: ReleaseStatusField
    notes: str | None
    created_by: UUID | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, release: Release) -> "ReleaseOut":
        return cls(
            id=release.id,
            name=release.name.value,
            version=release.version.value,
            status=release.status.value,
            notes=release.notes,
            created_by=release.created_by,
            created_at=release.created_at,
            updated_at=release.updated_at,
        )


class ReleasePageOut(BaseModel):
    items: list[ReleaseOut]
    next_cursor: str | None
    limit: int


class EnvironmentCreateIn(Input):
    name: EnvironmentNameField
    protected: StrictBool = False
    requires: Annotated[
        list[EnvironmentNameField],
        Field(
            max_length=REQUIRES_MAX,
            description="Existing environments a release must have succeeded in first",
        ),
    ] = []


class EnvironmentOut(BaseModel):
    name: str
    protected: bool
    requires: list[str]
    current_release_id: UUID | None
    current_version: str | None
    current_deployment_id: UUID | None
    updated_at: datetime

    @classmethod
    def of(cls, environment: Environment) -> "EnvironmentOut":
        return cls(
            name=environment.name.value,
            protected=environment.protected,
            requires=list(environment.requires),
            current_release_id=environment.current_release_id,
            current_version=environment.current_version,
            current_deployment_id=environment.current_deployment_id,
            updated_at=environment.updated_at,
        )


class EnvironmentListOut(BaseModel):
    items: list[EnvironmentOut]


class DeploymentCreateIn(Input):
    release_id: UUID
    environment: EnvironmentNameField


class DeploymentPatchIn(Input):
    status: DeploymentStatusField
    message: Annotated[str, Field(max_length=MESSAGE_MAX)] | None = None


class DeploymentOut(BaseModel):
    id: UUID
    release_id: UUID
    release_name: str
    version: str
    environment: str
    status: DeploymentStatusField
    message: str | None
    requested_by: UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, deployment: Deployment) -> "DeploymentOut":
        return cls(
            id=deployment.id,
            release_id=deployment.release_id,
            release_name=deployment.release_name.value,
            version=deployment.version.value,
            environment=deployment.environment.value,
            status=deployment.status.value,
            message=deployment.message,
            requested_by=deployment.requested_by,
            created_at=deployment.created_at,
            started_at=deployment.started_at,
            finished_at=deployment.finished_at,
        )


class DeploymentPageOut(BaseModel):
    items: list[DeploymentOut]
    next_cursor: str | None
    limit: int
