"""`/api/v1/users`: account administration."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from application.access.use_cases.assign_roles import AssignRoles
from application.identity.use_cases.create_user import CreateUser, CreateUserCommand
from application.identity.use_cases.delete_user import DeleteUser
from application.identity.use_cases.end_user_sessions import EndUserSessions
from application.identity.use_cases.get_user import GetUser
from application.identity.use_cases.list_users import ListUsers, ListUsersQuery
from application.identity.use_cases.unlock_user import UnlockUser
from application.identity.use_cases.update_user import UpdateUser, UpdateUserCommand
from entrypoints.http.dependencies import (
    CurrentPrincipal,
    LockView,
    container_of,
    require_json,
    use_case,
)
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.access import RolesAssignmentIn
from entrypoints.http.schemas.users import (
    PRINTABLE,
    ROLE_NAME_PATTERN,
    UserCreateIn,
    UserOut,
    UserPageOut,
    UserPatchIn,
    UserReplaceIn,
    user_page_json,
)

router = APIRouter(prefix="/api/v1/users", tags=["users"])
json_body = [Depends(require_json)]


@router.get(
    "",
    response_model=UserPageOut,
    responses=error_responses(400, 401, 403, 422, 503),
    description=ListUsers.__doc__,
)
async def list_users(
    request: Request,
    principal: CurrentPrincipal,
    lock_seen_at: LockView,
    list_users: Annotated[ListUsers, use_case(lambda c: c.list_users)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    q: Annotated[
        str | None,
        Query(max_length=128, pattern=PRINTABLE, description="Part of an email or username"),
    ] = None,
    is_active: bool | None = None,
    role: Annotated[
        str | None,
        Query(pattern=ROLE_NAME_PATTERN, description="An existing role", examples=["user"]),
    ] = None,
) -> Response:
    codec = container_of(request).cursor_codec()
    scope = {"q": q, "is_active": is_active, "role": role}
    after = codec.decode(cursor, scope) if cursor else None
    page = await list_users.execute(
        principal,
        ListUsersQuery(limit=limit, after=after, q=q, is_active=is_active, role=role),
    )
    body = user_page_json(
        page.items,
        next_cursor=codec.encode(page.next_after, scope) if page.next_after else None,
        limit=limit,
        lock_seen_at=lock_seen_at,
    )
    return Response(body, media_type="application/json")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=json_body,
    responses=error_responses(401, 403, 409, 415, 422, 503),
    description=CreateUser.__doc__,
)
async def create_user(
    body: UserCreateIn,
    principal: CurrentPrincipal,
    lock_seen_at: LockView,
    create: Annotated[CreateUser, use_case(lambda c: c.create_user)],
) -> UserOut:
    user = await create.execute(principal, CreateUserCommand(**body.model_dump()))
    return UserOut.of(user, lock_seen_at=lock_seen_at)


@router.get(
    "/{user_id}",
    responses=error_responses(401, 403, 404, 422, 503),
    description=GetUser.__doc__,
)
async def get_user(
    user_id: UUID,
    principal: CurrentPrincipal,
    lock_seen_at: LockView,
    get: Annotated[GetUser, use_case(lambda c: c.get_user)],
) -> UserOut:
    return UserOut.of(await get.execute(principal, user_id), lock_seen_at=lock_seen_at)


@router.delete(
    "/{user_id}/sessions",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 503),
    description=EndUserSessions.__doc__,
)
async def end_user_sessions(
    user_id: UUID,
    principal: CurrentPrincipal,
    end: Annotated[EndUserSessions, use_case(lambda c: c.end_user_sessions)],
) -> None:
    await end.execute(principal, user_id)


@router.put(
    "/{user_id}",
    dependencies=json_body,
    responses=error_responses(401, 403, 404, 409, 415, 422, 503),
    description=UpdateUser.__doc__,
)
async def replace_user(
    user_id: UUID,
    body: UserReplaceIn,
    principal: CurrentPrincipal,
    lock_seen_at: LockView,
    update: Annotated[UpdateUser, use_case(lambda c: c.update_user)],
) -> UserOut:
    command = UpdateUserCommand(**body.model_dump(), clear_full_name=body.full_name is None)
    return UserOut.of(await update.execute(principal, user_id, command), lock_seen_at=lock_seen_at)


@router.patch(
    "/{user_id}",
    dependencies=json_body,
    responses=error_responses(401, 403, 404, 409, 415, 422, 503),
    description=UpdateUser.__doc__,
)
async def update_user(
    user_id: UUID,
    body: UserPatchIn,
    principal: CurrentPrincipal,
    lock_seen_at: LockView,
    update: Annotated[UpdateUser, use_case(lambda c: c.update_user)],
) -> UserOut:
    given = body.model_dump(exclude_unset=True)
    clear_full_name = "full_name" in given and given["full_name"] is None
    # null for a non-nullable field means "leave it", not "erase it".
    command = UpdateUserCommand(
        **{k: v for k, v in given.items() if v is not None}, clear_full_name=clear_full_name
    )
    return UserOut.of(await update.execute(principal, user_id, command), lock_seen_at=lock_seen_at)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 422, 503),
    description=DeleteUser.__doc__,
)
async def delete_user(
    user_id: UUID,
    principal: CurrentPrincipal,
    delete: Annotated[DeleteUser, use_case(lambda c: c.delete_user)],
) -> None:
    await delete.execute(principal, user_id)


@router.put(
    "/{user_id}/roles",
    dependencies=json_body,
    responses=error_responses(401, 403, 404, 409, 415, 422, 503),
    description=AssignRoles.__doc__,
)
async def assign_roles(
    user_id: UUID,
    body: RolesAssignmentIn,
    principal: CurrentPrincipal,
    lock_seen_at: LockView,
    assign: Annotated[AssignRoles, use_case(lambda c: c.assign_roles)],
) -> UserOut:
    return UserOut.of(
        await assign.execute(principal, user_id, body.roles), lock_seen_at=lock_seen_at
    )


@router.post(
    "/{user_id}/unlock",
    responses=error_responses(401, 403, 404, 422, 503),
    description=UnlockUser.__doc__,
)
async def unlock_user(
    user_id: UUID,
    principal: CurrentPrincipal,
    lock_seen_at: LockView,
    unlock: Annotated[UnlockUser, use_case(lambda c: c.unlock_user)],
) -> UserOut:
    return UserOut.of(await unlock.execute(principal, user_id), lock_seen_at=lock_seen_at)
