"""`/api/v1/auth`: registration, log-in, tokens and the caller's own account."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response, status

from application.identity.use_cases.change_password import (
    ChangePassword,
    ChangePasswordCommand,
)
from application.identity.use_cases.get_own_profile import GetOwnProfile
from application.identity.use_cases.list_own_sessions import ListOwnSessions
from application.identity.use_cases.log_in import LogIn, LogInCommand
from application.identity.use_cases.log_out import LogOut, LogOutEverywhere
from application.identity.use_cases.refresh_session import RefreshSession, RefreshSessionCommand
from application.identity.use_cases.register_user import RegisterUser, RegisterUserCommand
from application.identity.use_cases.revoke_own_session import RevokeOwnSession
from application.identity.use_cases.update_own_profile import (
    UpdateOwnProfile,
    UpdateOwnProfileCommand,
)
from entrypoints.http.dependencies import (
    CurrentPrincipal,
    client_ip,
    require_json,
    use_case,
    user_agent,
)
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.auth import (
    LoginIn,
    PasswordChangeIn,
    ProfileUpdateIn,
    RefreshIn,
    RegisterIn,
    SessionListOut,
    SessionOut,
    TokenPairOut,
)
from entrypoints.http.schemas.common import ErrorBody
from entrypoints.http.schemas.mfa import MfaChallengeBody
from entrypoints.http.schemas.users import UserOut, user_json

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
json_body = [Depends(require_json)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _no_store(response: Response) -> None:
    response.headers.update(NO_STORE)


# First: routes are matched in order, and this is the hottest of all.
@router.get(
    "/me",
    operation_id="getOwnProfile",
    response_model=UserOut,
    responses=error_responses(401, 503),
    description=GetOwnProfile.__doc__,
)
async def me(
    principal: CurrentPrincipal,
    get_profile: Annotated[GetOwnProfile, use_case(lambda c: c.get_own_profile)],
) -> Response:
    # Serialised once, without validating the stored user again.
    return Response(user_json(await get_profile.execute(principal)), media_type="application/json")


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=json_body,
    responses=error_responses(403, 409, 413, 415, 422, 429, 503),
    description=RegisterUser.__doc__,
)
async def register(
    body: RegisterIn, register_user: Annotated[RegisterUser, use_case(lambda c: c.register_user)]
) -> UserOut:
    user = await register_user.execute(RegisterUserCommand(**body.model_dump()))
    return UserOut.of(user)


@router.post(
    "/login",
    operation_id="logIn",
    dependencies=json_body,
    responses={
        **error_responses(403, 413, 415, 422, 429, 503),
        **error_responses(401, model=MfaChallengeBody | ErrorBody),
    },
    description=LogIn.__doc__,
)
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    log_in: Annotated[LogIn, use_case(lambda c: c.log_in)],
) -> TokenPairOut:
    pair = await log_in.execute(
        LogInCommand(
            login=body.username,
            password=body.password,
            ip=client_ip(request),
            user_agent=user_agent(request),
        )
    )
    _no_store(response)
    return TokenPairOut.of(pair)


@router.post(
    "/refresh",
    operation_id="refreshTokens",
    dependencies=json_body,
    responses=error_responses(401, 415, 422, 503),
    description=RefreshSession.__doc__,
)
async def refresh(
    body: RefreshIn,
    response: Response,
    refresh_session: Annotated[RefreshSession, use_case(lambda c: c.refresh_session)],
) -> TokenPairOut:
    pair = await refresh_session.execute(RefreshSessionCommand(refresh_token=body.refresh_token))
    _no_store(response)
    return TokenPairOut.of(pair)


@router.post(
    "/logout",
    operation_id="logOut",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 503),
    description=LogOut.__doc__,
)
async def logout(
    principal: CurrentPrincipal, log_out: Annotated[LogOut, use_case(lambda c: c.log_out)]
) -> None:
    await log_out.execute(principal)


@router.post(
    "/logout-all",
    operation_id="logOutEverywhere",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 503),
    description=LogOutEverywhere.__doc__,
)
async def logout_all(
    principal: CurrentPrincipal,
    log_out_everywhere: Annotated[LogOutEverywhere, use_case(lambda c: c.log_out_everywhere)],
) -> None:
    await log_out_everywhere.execute(principal)


@router.patch(
    "/me",
    operation_id="updateOwnProfile",
    dependencies=json_body,
    responses=error_responses(400, 401, 403, 409, 415, 422, 503),
    description=UpdateOwnProfile.__doc__,
)
async def update_me(
    body: ProfileUpdateIn,
    principal: CurrentPrincipal,
    update_profile: Annotated[UpdateOwnProfile, use_case(lambda c: c.update_own_profile)],
) -> UserOut:
    command = UpdateOwnProfileCommand(
        email=body.email,
        username=body.username,
        full_name=body.full_name,
        clear_full_name="full_name" in body.model_fields_set and body.full_name is None,
        current_password=body.current_password,
    )
    return UserOut.of(await update_profile.execute(principal, command))


@router.post(
    "/me/password",
    operation_id="changeOwnPassword",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=json_body,
    responses=error_responses(400, 401, 403, 409, 415, 422, 503),
    description=ChangePassword.__doc__,
)
async def change_password(
    body: PasswordChangeIn,
    principal: CurrentPrincipal,
    change: Annotated[ChangePassword, use_case(lambda c: c.change_password)],
) -> None:
    await change.execute(
        principal,
        ChangePasswordCommand(
            current_password=body.current_password, new_password=body.new_password
        ),
    )


@router.get(
    "/sessions",
    operation_id="listOwnSessions",
    responses=error_responses(401, 403, 503),
    description=ListOwnSessions.__doc__,
)
async def sessions(
    principal: CurrentPrincipal,
    list_sessions: Annotated[ListOwnSessions, use_case(lambda c: c.list_own_sessions)],
) -> SessionListOut:
    views = await list_sessions.execute(principal)
    return SessionListOut(items=[SessionOut.of(v) for v in views])


@router.delete(
    "/sessions/{session_id}",
    operation_id="revokeOwnSession",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422, 503),
    description=RevokeOwnSession.__doc__,
)
async def revoke_session(
    session_id: UUID,
    principal: CurrentPrincipal,
    revoke_own: Annotated[RevokeOwnSession, use_case(lambda c: c.revoke_own_session)],
) -> None:
    await revoke_own.execute(principal, session_id)
