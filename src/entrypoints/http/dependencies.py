"""FastAPI dependencies: reach the container, authenticate the caller, read client facts.

Routers get use cases through `use_case(...)`, built by the container per request.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import (
    APIKeyHeader,
    HTTPBasic,
    HTTPBearer,
    OAuth2PasswordBearer,
)
from starlette.requests import HTTPConnection

from adapters.metrics.api_keys import count_api_key_use
from application.access.use_cases.authenticate_api_key import AuthenticateApiKeyCommand
from application.common.security import Principal
from application.errors import AuthenticationError, InvalidClientError
from application.tokens.use_cases.authenticate import AuthenticateCommand
from domain.access.permissions import Permission
from entrypoints.container import Container
from entrypoints.http.client_auth import basic_credentials
from entrypoints.http.errors import HttpError
from entrypoints.tracing import traced_use_case

T = TypeVar("T")


def container_of(request: HTTPConnection) -> Container:
    container: Container = request.app.state.container
    return container


def use_case(pick: Callable[[Container], Any]) -> Any:
    """`Depends` on the use case `pick` selects from the container, e.g.
    `use_case(lambda c: c.register_user)`. Its `execute` runs in a span while tracing is on."""

    # async: FastAPI runs a plain `def` dependency in the thread pool, a thread hop per
    # request for what is a dictionary lookup.
    async def dependency(request: Request) -> Any:
        return traced_use_case(pick(container_of(request))())

    return Depends(dependency)


# Declared as security dependencies so OpenAPI lists both schemes and the docs' Authorize
# button works. auto_error=False: absence and conflicts are judged below, so every
# refusal keeps the envelope and the RFC 6750 challenge. HTTPBearer reads the
# Authorization header only (RFC 6750 §2.1): a token in the query string is ignored, as
# §2.3 is discouraged because URLs end up in logs and browser history.
bearer_scheme = HTTPBearer(
    auto_error=False, description="An access token from `POST /api/v1/auth/login`."
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="A key from `POST /api/v1/api-keys`; acts as its owner within its scopes.",
)
# The same bearer token, obtained by the docs' Authorize button: it posts the username
# and password to the token endpoint (RFC 6749 §4.3) and sends what it gets back.
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="Sign in with a username (or email) and password; leave the client "
    "fields empty. Accounts with two-factor authentication sign in with "
    "`POST /api/v1/auth/login` and `/api/v1/auth/mfa/verify` instead.",
)


class _DeclaredClientBasic(HTTPBasic):
    """Declares HTTP Basic client authentication (RFC 6749 §2.3.1) in OpenAPI only:
    `oauth_caller` reads and judges the header, so refusals keep the OAuth envelope."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


client_basic_scheme = _DeclaredClientBasic(
    scheme_name="HTTPBasic",
    auto_error=False,
    description="A service client's `client_id` and `client_secret` from `POST /api/v1/clients`.",
)
# Every way `oauth_caller` accepts, for the OAuth endpoints that need a caller.
OAUTH_CALLER_SCHEMES = [
    Depends(client_basic_scheme),
    Depends(bearer_scheme),
    Depends(oauth2_scheme),
    Depends(api_key_scheme),
]


async def current_principal(request: Request) -> Principal:
    """A bearer access token (a person's session or a service client) or an `X-API-Key`
    (a key acting as its owner within its scopes). Both at once is refused: one
    request, one identity.

    It reads the headers itself, as `HTTPBearer(auto_error=False)` would: the three
    security schemes it accepts are declared in the OpenAPI document by
    `PRINCIPAL_SCHEMES` (see `entrypoints.http.openapi`), not solved on every request,
    where they had cost more than the token check."""
    return await principal_of(request, _bearer_token(request.headers.get("authorization")))


# What `current_principal` accepts, for the OpenAPI document only.
PRINCIPAL_SCHEMES = [Depends(bearer_scheme), Depends(oauth2_scheme), Depends(api_key_scheme)]


def _bearer_token(header: str | None) -> str | None:
    """The credentials of an `Authorization: Bearer ...` header (the scheme in any case);
    None for no header, another scheme, or nothing after it."""
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if not (scheme and credentials) or scheme.lower() != "bearer":
        return None
    return credentials


async def principal_of(request: Request, token: str | None) -> Principal:
    # The raw header, not the scheme's value: APIKeyHeader reads an empty key as absent,
    # and a key that was sent, even empty, must be judged (and refused), not ignored.
    principal = await authenticate(
        container_of(request), token=token, api_key=request.headers.get("x-api-key")
    )
    request.state.principal = principal
    return principal


async def authenticate(
    container: Container, *, token: str | None, api_key: str | None
) -> Principal:
    """The principal behind a bearer token or an API key (HTTP requests and live
    connections alike); `AuthenticationError` when neither, both, or a bad one."""
    if token is not None and api_key is not None:
        raise AuthenticationError("send either a bearer token or an API key, not both")
    if api_key is not None:
        try:
            principal: Principal = await traced_use_case(container.authenticate_api_key()).execute(
                AuthenticateApiKeyCommand(key=api_key)
            )
        except AuthenticationError:
            count_api_key_use(accepted=False)
            raise
        count_api_key_use(accepted=True)
    elif token is not None:
        use_case = traced_use_case(container.authenticate())
        principal = await use_case.execute(AuthenticateCommand(access_token=token))
    else:
        raise AuthenticationError("a bearer access token or an API key is required")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def lock_view(request: Request, principal: CurrentPrincipal) -> datetime | None:
    """For a caller who may read other accounts (`users:read`, an administrator), the
    time to judge account locks at, so a User shows `locked` and `locked_until`; for
    anyone else None, and the User leaves them out."""
    if Permission.USERS_READ not in principal.permissions:
        return None
    now: datetime = container_of(request).core.clock().now()
    return now


LockView = Annotated[datetime | None, Depends(lock_view)]


def client_ip(request: Request) -> str | None:
    """The client's address as resolved once per request: the socket peer, or the
    forwarded client when the peer is a trusted proxy (always a valid IP or None)."""
    ip: str | None = request.scope.get("client_ip")
    return ip


def user_agent(request: Request) -> str | None:
    return request.headers.get("user-agent")


async def require_json(request: Request) -> None:
    """415 for a body that is not JSON (instead of a confusing 422)."""
    if not _has_body(request):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise HttpError(
            "Content-Type must be application/json", code="unsupported_media_type", status=415
        )


async def require_form(request: Request) -> None:
    """OAuth endpoints take application/x-www-form-urlencoded (RFC 6749 §4.3.2, RFC 7009).
    An empty body falls through to validation (a missing `grant_type`)."""
    if not _has_body(request):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise HttpError(
            "Content-Type must be application/x-www-form-urlencoded",
            code="unsupported_media_type",
            status=415,
        )


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(request.headers.get("transfer-encoding")) or (length not in (None, "0"))


async def oauth_caller(request: Request) -> Principal:
    """For the OAuth endpoints: a service client by HTTP Basic (RFC 6749 §2.3.1), or
    the usual principal (API key or bearer token)."""
    basic = basic_credentials(request)
    if basic is None:
        bearer = _bearer_token(request.headers.get("authorization"))
        try:
            return await principal_of(request, bearer)
        except AuthenticationError as error:
            # RFC 7662 §2.1: a caller that cannot be authenticated is answered 401.
            raise InvalidClientError(error.message) from error
    authenticate_client = traced_use_case(container_of(request).authenticate_client())
    principal: Principal = await authenticate_client.execute(*basic)
    return principal
