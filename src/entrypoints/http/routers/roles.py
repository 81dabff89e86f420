"""`/api/v1/roles`: role definitions."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from application.access.use_cases.manage_roles import (
    ChangeRole,
    ChangeRoleCommand,
    CreateRole,
    CreateRoleCommand,
    DeleteRole,
    GetRole,
    ListRoles,
)
from entrypoints.http.dependencies import CurrentPrincipal, require_json, use_case
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.access import RoleCreateIn, RoleListOut, RoleOut, RolePatchIn, values
from entrypoints.http.schemas.users import ROLE_NAME_PATTERN

router = APIRouter(prefix="/api/v1/roles", tags=["roles"])
RoleNamePath = Annotated[str, Path(pattern=ROLE_NAME_PATTERN, examples=["support"])]
json_body = [Depends(require_json)]


@router.get("", responses=error_responses(401, 403, 503), description=ListRoles.__doc__)
async def list_roles(
    principal: CurrentPrincipal, roles: Annotated[ListRoles, use_case(lambda c: c.list_roles)]
) -> RoleListOut:
    return RoleListOut(items=[RoleOut.of(r) for r in await roles.execute(principal)])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=json_body,
    responses=error_responses(401, 403, 409, 415, 422, 503),
    description=CreateRole.__doc__,
)
async def create_role(
    body: RoleCreateIn,
    principal: CurrentPrincipal,
    create: Annotated[CreateRole, use_case(lambda c: c.create_role)],
) -> RoleOut:
    role = await create.execute(
        principal, CreateRoleCommand(name=body.name, permissions=values(body.permissions))
    )
    return RoleOut.of(role)


@router.get("/{name}", responses=error_responses(401, 403, 404, 503), description=GetRole.__doc__)
async def get_role(
    name: RoleNamePath,
    principal: CurrentPrincipal,
    get: Annotated[GetRole, use_case(lambda c: c.get_role)],
) -> RoleOut:
    return RoleOut.of(await get.execute(principal, name))


@router.patch(
    "/{name}",
    operation_id="updateRole",
    dependencies=json_body,
    responses=error_responses(401, 403, 404, 409, 415, 422, 503),
    description=ChangeRole.__doc__,
)
async def change_role(
    name: RoleNamePath,
    body: RolePatchIn,
    principal: CurrentPrincipal,
    change: Annotated[ChangeRole, use_case(lambda c: c.change_role)],
) -> RoleOut:
    role = await change.execute(
        principal,
        name,
        ChangeRoleCommand(
            name=body.name,
            permissions=None if body.permissions is None else values(body.permissions),
        ),
    )
    return RoleOut.of(role)


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 503),
    description=DeleteRole.__doc__,
)
async def delete_role(
    name: RoleNamePath,
    principal: CurrentPrincipal,
    delete: Annotated[DeleteRole, use_case(lambda c: c.delete_role)],
) -> None:
    await delete.execute(principal, name)
