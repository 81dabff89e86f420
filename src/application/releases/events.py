"""How the releases context's events leave the service (see `application.events.catalog`):
topics `releases` and `deployments`, each needing `releases:read`."""

from application.events.catalog import EventSpec, EventTable, fields, no_account
from domain.releases.events import (
    DeploymentCreated,
    DeploymentStatusChanged,
    EnvironmentCreated,
    ReleaseCreated,
    ReleaseNotesChanged,
    ReleaseStatusChanged,
)

RELEASES = "releases"
DEPLOYMENTS = "deployments"

# As `GET /releases/{id}`, `/deployments/{id}` and `/environments/{name}` show them.
RELEASE = fields(
    "id", "name", "version", "status", "notes", "created_by", "created_at", "updated_at"
)
DEPLOYMENT = fields(
    "id",
    "release_id",
    "release_name",
    "version",
    "environment",
    "status",
    "message",
    "requested_by",
    "created_at",
    "started_at",
    "finished_at",
)
ENVIRONMENT = fields(
    "name",
    "protected",
    "requires",
    "current_release_id",
    "current_version",
    "current_deployment_id",
    "updated_at",
)


def _release(name: str) -> EventSpec:
    return EventSpec(
        name=name, topic=RELEASES, subject=lambda e: e.release_id, account=no_account, view=RELEASE
    )


def _deployment(name: str) -> EventSpec:
    return EventSpec(
        name=name,
        topic=DEPLOYMENTS,
        subject=lambda e: e.deployment_id,
        account=no_account,
        view=DEPLOYMENT,
    )


RELEASE_EVENTS: EventTable = {
    ReleaseCreated: _release("release.created"),
    ReleaseStatusChanged: _release("release.status_changed"),
    ReleaseNotesChanged: _release("release.updated"),
    EnvironmentCreated: EventSpec(
        name="environment.created",
        topic=DEPLOYMENTS,
        subject=lambda e: e.environment,
        account=no_account,
        view=ENVIRONMENT,
    ),
    DeploymentCreated: _deployment("deployment.created"),
    DeploymentStatusChanged: _deployment("deployment.status_changed"),
}
