"""`/api/v1/releases`, `/api/v1/environments`, `/api/v1/deployments`: the releases
context (API.md, "Releases and deployments")."""

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Query, Request, status

from application.releases.use_cases.manage_deployments import (
    ChangeDeployment,
    ChangeDeploymentCommand,
    CreateDeployment,
    CreateDeploymentCommand,
    GetDeployment,
    ListDeployments,
    ListDeploymentsQuery,
)
from application.releases.use_cases.manage_environments import (
    CreateEnvironment,
    CreateEnvironmentCommand,
    GetEnvironment,
    ListEnvironments,
)
from application.releases.use_cases.manage_releases import (
    ChangeRelease,
    ChangeReleaseCommand,
    CreateRelease,
    CreateReleaseCommand,
    GetRelease,
    ListReleases,
    ListReleasesQuery,
)
from domain.releases.values import NAME_PATTERN
from entrypoints.http.dependencies import CurrentPrincipal, container_of, require_json, use_case
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.releases import (
    IDEMPOTENCY_KEY_PATTERN,
    DeploymentCreateIn,
    DeploymentOut,
    DeploymentPageOut,
    DeploymentPatchIn,
    DeploymentStatusField,
    EnvironmentCreateIn,
    EnvironmentListOut,
    EnvironmentOut,
    ReleaseCreateIn,
    ReleaseOut,
    ReleasePageOut,
    ReleasePatchIn,
    ReleaseStatusField,
)

releases = APIRouter(prefix="/api/v1/releases", tags=["releases"])
environments = APIRouter(prefix="/api/v1/environments", tags=["environments"])
deployments = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])
routers = (releases, environments, deployments)

json_body = [Depends(require_json)]
Limit = Annotated[int, Query(ge=1, le=100)]
Cursor = Annotated[str | None, Query(max_length=512)]
NameQuery = Annotated[str | None, Query(pattern=NAME_PATTERN, max_length=63)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="A retry with the same key and body returns the first answer and "
        "creates nothing; the same key with another body is a 422. Kept 24 hours.",
    ),
]


class Cursors:
    """Signed cursors bound to one listing's filters (`scope`)."""

    def __init__(self, request: Request, scope: dict[str, Any]) -> None:
        self._codec = container_of(request).cursor_codec()
        self._scope = scope

    def after(self, cursor: str | None) -> UUID | None:
        return self._codec.decode(cursor, self._scope) if cursor else None

    def next(self, before: UUID | None) -> str | None:
        return self._codec.encode(before, self._scope) if before else None


@releases.get(
    "", responses=error_responses(400, 401, 403, 422, 503), description=ListReleases.__doc__
)
async def list_releases(
    request: Request,
    principal: CurrentPrincipal,
    list_releases: Annotated[ListReleases, use_case(lambda c: c.list_releases)],
    name: NameQuery = None,
    status: ReleaseStatusField | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> ReleasePageOut:
    cursors = Cursors(request, {"releases": True, "name": name, "status": status})
    page = await list_releases.execute(
        principal,
        ListReleasesQuery(limit=limit, before=cursors.after(cursor), name=name, status=status),
    )
    items = [ReleaseOut.of(r) for r in page.items]
    return ReleasePageOut(items=items, next_cursor=cursors.next(page.next_before), limit=limit)


@releases.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=json_body,
    responses=error_responses(401, 403, 409, 415, 422, 503),
    description=CreateRelease.__doc__,
)
async def create_release(
    body: ReleaseCreateIn,
    principal: CurrentPrincipal,
    create: Annotated[CreateRelease, use_case(lambda c: c.create_release)],
    idempotency_key: IdempotencyKey = None,
) -> ReleaseOut:
    command = CreateReleaseCommand(**body.model_dump(), idempotency_key=idempotency_key)
    return ReleaseOut.of(await create.execute(principal, command))


@releases.get(
    "/{release_id}",
    responses=error_responses(401, 403, 404, 422, 503),
    description=GetRelease.__doc__,
)
async def get_release(
    release_id: UUID,
    principal: CurrentPrincipal,
    get: Annotated[GetRelease, use_case(lambda c: c.get_release)],
) -> ReleaseOut:
    return ReleaseOut.of(await get.execute(principal, release_id))


@releases.patch(
    "/{release_id}",
    dependencies=json_body,
    responses=error_responses(401, 403, 404, 409, 415, 422, 503),
    description=ChangeRelease.__doc__,
)
async def update_release(
    release_id: UUID,
    body: ReleasePatchIn,
    principal: CurrentPrincipal,
    change: Annotated[ChangeRelease, use_case(lambda c: c.change_release)],
) -> ReleaseOut:
    command = ChangeReleaseCommand(
        status=body.status,
        notes=body.notes,
        clear_notes="notes" in body.model_fields_set and body.notes is None,
    )
    return ReleaseOut.of(await change.execute(principal, release_id, command))


@environments.get(
    "", responses=error_responses(401, 403, 503), description=ListEnvironments.__doc__
)
async def list_environments(
    principal: CurrentPrincipal,
    list_environments: Annotated[ListEnvironments, use_case(lambda c: c.list_environments)],
) -> EnvironmentListOut:
    found = await list_environments.execute(principal)
    return EnvironmentListOut(items=[EnvironmentOut.of(e) for e in found])


@environments.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=json_body,
    responses=error_responses(401, 403, 409, 415, 422, 503),
    description=CreateEnvironment.__doc__,
)
async def create_environment(
    body: EnvironmentCreateIn,
    principal: CurrentPrincipal,
    create: Annotated[CreateEnvironment, use_case(lambda c: c.create_environment)],
) -> EnvironmentOut:
    command = CreateEnvironmentCommand(
        name=body.name, protected=body.protected, requires=tuple(body.requires)
    )
    return EnvironmentOut.of(await create.execute(principal, command))


@environments.get(
    "/{name}", responses=error_responses(401, 403, 404, 503), description=GetEnvironment.__doc__
)
async def get_environment(
    name: Annotated[str, Path(pattern=NAME_PATTERN, max_length=63, examples=["staging"])],
    principal: CurrentPrincipal,
    get: Annotated[GetEnvironment, use_case(lambda c: c.get_environment)],
) -> EnvironmentOut:
    return EnvironmentOut.of(await get.execute(principal, name))


@deployments.get(
    "", responses=error_responses(400, 401, 403, 422, 503), description=ListDeployments.__doc__
)
async def list_deployments(
    request: Request,
    principal: CurrentPrincipal,
    list_deployments: Annotated[ListDeployments, use_case(lambda c: c.list_deployments)],
    environment: NameQuery = None,
    release_id: UUID | None = None,
    status: DeploymentStatusField | None = None,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> DeploymentPageOut:
    release = None if release_id is None else str(release_id)
    cursors = Cursors(
        request,
        {"deployments": True, "environment": environment, "release_id": release, "status": status},
    )
    query = ListDeploymentsQuery(
        limit=limit,
        before=cursors.after(cursor),
        environment=environment,
        release_id=release_id,
        status=status,
    )
    page = await list_deployments.execute(principal, query)
    items = [DeploymentOut.of(d) for d in page.items]
    return DeploymentPageOut(items=items, next_cursor=cursors.next(page.next_before), limit=limit)


@deployments.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=json_body,
    responses=error_responses(401, 403, 404, 409, 415, 422, 503),
    description=CreateDeployment.__doc__,
)
async def create_deployment(
    body: DeploymentCreateIn,
    principal: CurrentPrincipal,
    create: Annotated[CreateDeployment, use_case(lambda c: c.create_deployment)],
    idempotency_key: IdempotencyKey = None,
) -> DeploymentOut:
    command = CreateDeploymentCommand(
        release_id=body.release_id, environment=body.environment, idempotency_key=idempotency_key
    )
    return DeploymentOut.of(await create.execute(principal, command))


@deployments.get(
    "/{deployment_id}",
    responses=error_responses(401, 403, 404, 422, 503),
    description=GetDeployment.__doc__,
)
async def get_deployment(
    deployment_id: UUID,
    principal: CurrentPrincipal,
    get: Annotated[GetDeployment, use_case(lambda c: c.get_deployment)],
) -> DeploymentOut:
    return DeploymentOut.of(await get.execute(principal, deployment_id))


@deployments.patch(
    "/{deployment_id}",
    dependencies=json_body,
    responses=error_responses(401, 403, 404, 409, 415, 422, 503),
    description=ChangeDeployment.__doc__,
)
async def update_deployment(
    deployment_id: UUID,
    body: DeploymentPatchIn,
    principal: CurrentPrincipal,
    change: Annotated[ChangeDeployment, use_case(lambda c: c.change_deployment)],
) -> DeploymentOut:
    command = ChangeDeploymentCommand(status=body.status, message=body.message)
    return DeploymentOut.of(await change.execute(principal, deployment_id, command))
