"""OAuth 2.0 form endpoints: `/token` (RFC 6749 §4.3 and §6) and `/revoke` (RFC 7009).

Errors here use RFC 6749 §5.2 codes with `error_description`, inside the usual envelope.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response

from application.errors import InvalidClientError
from application.identity.use_cases.log_in import LogIn, LogInCommand
from application.identity.use_cases.refresh_session import RefreshSession, RefreshSessionCommand
from application.identity.use_cases.revoke_token import RevokeToken, RevokeTokenCommand
from application.signin.use_cases.exchange_code import (
    ExchangeAuthorizationCode,
    ExchangeCodeCommand,
)
from application.tokens.use_cases.client_credentials import (
    ClientCredentialsCommand,
    IssueClientToken,
)
from application.tokens.use_cases.introspect import IntrospectCommand, IntrospectToken
from entrypoints.http.client_auth import basic_credentials, client_credentials
from entrypoints.http.dependencies import (
    OAUTH_CALLER_SCHEMES,
    client_ip,
    oauth_caller,
    require_form,
    use_case,
    user_agent,
)
from entrypoints.http.errors import OAUTH_ROUTE_FLAG, OAuthError, error_responses
from entrypoints.http.schemas.auth import OAuthTokenOut
from entrypoints.http.schemas.common import OAuthErrorBody
from entrypoints.http.schemas.mfa import MfaChallengeBody
from entrypoints.http.schemas.oauth import (
    IntrospectionOut,
    IntrospectionRequest,
    RevocationOut,
    RevocationRequest,
    TokenRequest,
)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


async def _oauth_errors(request: Request) -> None:
    request.scope[OAUTH_ROUTE_FLAG] = True


router = APIRouter(
    prefix="/api/v1/auth",
    tags=["oauth2"],
    dependencies=[Depends(_oauth_errors), Depends(require_form)],
)


@router.post(
    "/token",
    operation_id="issueToken",
    responses={
        **error_responses(400, model=OAuthErrorBody),
        **error_responses(401, model=OAuthErrorBody | MfaChallengeBody),
        **error_responses(415, 429, 503),
    },
    # RFC 6749 §4.4.3: no refresh token for client credentials — absent, not null.
    response_model_exclude_none=True,
)
async def token(
    request: Request,
    response: Response,
    form: Annotated[TokenRequest, Form()],
    log_in: Annotated[LogIn, use_case(lambda c: c.log_in)],
    refresh_session: Annotated[RefreshSession, use_case(lambda c: c.refresh_session)],
    client_token: Annotated[IssueClientToken, use_case(lambda c: c.issue_client_token)],
    code_exchange: Annotated[
        ExchangeAuthorizationCode, use_case(lambda c: c.exchange_authorization_code)
    ],
) -> OAuthTokenOut:
    """RFC 6749 token endpoint: `password` and `refresh_token` grants for people (public
    clients, no client authentication; `scope` is accepted and ignored, a user's token
    carries the user's rights), and `client_credentials` for service clients (HTTP
    Basic or form client authentication, RFC 6749 §2.3.1; no refresh token), and
    `authorization_code` (RFC 6749 §4.1.3 with the PKCE `code_verifier`, RFC 7636; the
    client authenticates as it registered: `none`, Basic or form; an `id_token` when
    `openid` was asked for; a code works once, and a second use revokes what the first
    issued).
    """
    response.headers.update(NO_STORE)
    grant_type, username, password = form.grant_type, form.username, form.password
    if grant_type == "client_credentials":
        credentials = client_credentials(request, form.client_id, form.client_secret)
        if credentials is None:
            raise InvalidClientError("client authentication is required")
        issued = await client_token.execute(
            ClientCredentialsCommand(
                client_id=credentials[0], client_secret=credentials[1], scope=form.scope
            )
        )
        return OAuthTokenOut(
            access_token=issued.token,
            expires_in=int((issued.claims.expires_at - issued.claims.issued_at).total_seconds()),
            scope=issued.claims.scope,
        )
    if grant_type == "authorization_code":
        if not form.code:
            raise OAuthError("invalid_request", "code is required")
        basic = basic_credentials(request)
        if basic is not None and (form.client_id or form.client_secret):
            raise InvalidClientError("use one client authentication method")
        method = (
            "client_secret_basic"
            if basic
            else "client_secret_post"
            if form.client_secret
            else "none"
        )
        client_id, secret = basic if basic else (form.client_id, form.client_secret)
        tokens = await code_exchange.execute(
            ExchangeCodeCommand(
                code=form.code,
                redirect_uri=form.redirect_uri,
                code_verifier=form.code_verifier,
                client_id=client_id,
                client_secret=secret,
                auth_method=method,
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
        )
        return OAuthTokenOut(
            access_token=tokens.access_token,
            expires_in=tokens.expires_in,
            refresh_token=tokens.refresh_token,
            refresh_expires_in=tokens.refresh_expires_in,
            scope=tokens.scope or None,
            id_token=tokens.id_token,
        )
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
        if not form.refresh_token:
            raise OAuthError("invalid_request", "refresh_token is required")
        pair = await refresh_session.execute(
            RefreshSessionCommand(refresh_token=form.refresh_token)
        )
    else:
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    return OAuthTokenOut(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        refresh_expires_in=pair.refresh_expires_in,
    )


@router.post(
    "/revoke",
    operation_id="revokeToken",
    responses={**error_responses(400, model=OAuthErrorBody), **error_responses(415, 503)},
    description=RevokeToken.__doc__,
)
async def revoke(
    response: Response,
    form: Annotated[RevocationRequest, Form()],
    revoke_token: Annotated[RevokeToken, use_case(lambda c: c.revoke_token)],
) -> RevocationOut:
    await revoke_token.execute(
        RevokeTokenCommand(token=form.token, token_type_hint=form.token_type_hint)
    )
    response.headers.update(NO_STORE)
    return RevocationOut()


@router.post(
    "/introspect",
    operation_id="introspectToken",
    responses={
        **error_responses(400, 401, 403, model=OAuthErrorBody),
        **error_responses(415, 503),
    },
    description=IntrospectToken.__doc__,
    response_model_exclude_none=True,
    dependencies=OAUTH_CALLER_SCHEMES,
)
async def introspect(
    request: Request,
    response: Response,
    form: Annotated[IntrospectionRequest, Form()],
    introspect_token: Annotated[IntrospectToken, use_case(lambda c: c.introspect_token)],
) -> IntrospectionOut:
    """The caller proves itself as a service client (HTTP Basic, the usual resource
    server), or with an API key or bearer token; either way it needs
    `tokens:introspect`."""
    principal = await oauth_caller(request)
    response.headers.update(NO_STORE)
    answer = await introspect_token.execute(
        principal, IntrospectCommand(token=form.token, token_type_hint=form.token_type_hint)
    )
    return IntrospectionOut(**answer)
