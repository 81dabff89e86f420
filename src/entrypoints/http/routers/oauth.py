"""OAuth 2.0 form endpoints: `/token` (RFC 6749 §4.3 and §6) and `/revoke` (RFC 7009).

Errors here use RFC 6749 §5.2 codes with `error_description`, inside the usual envelope.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from application.use_cases.auth.log_in import LogIn, LogInCommand
from application.use_cases.auth.refresh_session import RefreshSession, RefreshSessionCommand
from application.use_cases.auth.revoke_token import RevokeToken, RevokeTokenCommand
from entrypoints.http.dependencies import client_ip, require_form, use_case, user_agent
from entrypoints.http.errors import OAUTH_ROUTE_FLAG, OAuthError, error_responses
from entrypoints.http.schemas.auth import OAuthTokenOut

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_errors(request: Request) -> None:
    request.scope[OAUTH_ROUTE_FLAG] = True


router = APIRouter(
    prefix="/api/v1/auth",
    tags=["oauth2"],
    dependencies=[Depends(_oauth_errors), Depends(require_form)],
)

FormText = Annotated[str | None, Form(max_length=4096)]


@router.post("/token", responses=error_responses(400, 401, 415, 429, 503))
async def token(
    request: Request,
    response: Response,
    log_in: Annotated[LogIn, use_case(lambda c: c.log_in)],
    refresh_session: Annotated[RefreshSession, use_case(lambda c: c.refresh_session)],
    grant_type: Annotated[str, Form(max_length=64)],
    username: FormText = None,
    password: FormText = None,
    refresh_token: FormText = None,
    scope: FormText = None,
) -> OAuthTokenOut:
    """RFC 6749 token endpoint for the `password` and `refresh_token` grants.

    Public clients: no client authentication. `scope` is accepted and ignored (every
    token carries the user's full rights). Rotation and re-use rules are those of
    `/refresh`.
    """
    if grant_type == "password":
        if not username or not password:
            raise OAuthError("invalid_request", "username and password are required")
        pair = await log_in.execute(
            LogInCommand(
                login=username,
                password=password,
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
        )
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise OAuthError("invalid_request", "refresh_token is required")
        pair = await refresh_session.execute(RefreshSessionCommand(refresh_token=refresh_token))
    else:
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    response.headers.update(NO_STORE)
    return OAuthTokenOut(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_expires_in,
    )


@router.post("/revoke", responses=error_responses(400, 415, 503), description=RevokeToken.__doc__)
async def revoke(
    response: Response,
    revoke_token: Annotated[RevokeToken, use_case(lambda c: c.revoke_token)],
    token: Annotated[str, Form(max_length=4096)],
    token_type_hint: Annotated[str | None, Form(max_length=64)] = None,
) -> dict[str, str]:
    await revoke_token.execute(RevokeTokenCommand(token=token, token_type_hint=token_type_hint))
    response.headers.update(NO_STORE)
    return {}
