"""The one error table and the one handler that renders the error envelope.

`{"error", "message", "request_id", "details"}` everywhere; OAuth endpoints add RFC 6749
§5.2 codes and `error_description`. A 500 never shows internals.
"""

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from application.errors import (
    AuthenticationError,
    ConflictError,
    EmailNotVerifiedError,
    InvalidClientError,
    InvalidCurrentPasswordError,
    InvalidMfaCodeError,
    InvalidOneTimeTokenError,
    InvalidScopeError,
    InvalidTokenError,
    MfaRequiredError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    UnauthorizedClientError,
)
from domain.access.roles import BuiltinRoleError
from domain.common.errors import DomainError, InvalidValueError
from domain.releases.errors import ReleaseRuleError
from entrypoints.http.middleware.allowed_methods import allow_header
from entrypoints.http.schemas.common import ErrorBody

log = structlog.get_logger()


class EdgeError(Exception):
    """Errors that exist only at the HTTP edge; the domain never sees them."""

    def __init__(self, message: str, *, code: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


class HttpError(EdgeError):
    """A malformed cursor, an unsupported media type..."""


class OAuthError(EdgeError):
    """An RFC 6749 §5.2 error raised by the OAuth endpoints themselves."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(description, code=code, status=status)


# Most specific first: the first matching class decides the status.
ERROR_STATUS: Sequence[tuple[type[DomainError], int]] = (
    (InvalidCurrentPasswordError, 400),
    (InvalidScopeError, 400),
    (UnauthorizedClientError, 400),
    (InvalidMfaCodeError, 400),
    (InvalidOneTimeTokenError, 400),
    (InvalidValueError, 422),
    (BuiltinRoleError, 409),
    (ReleaseRuleError, 409),
    (RateLimitedError, 429),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (ServiceUnavailableError, 503),
)

# How application errors read on the OAuth endpoints (RFC 6749 §5.2).
OAUTH_CODES: Sequence[tuple[type[DomainError], str, int]] = (
    # Not an RFC 6749 code: the password was right, the grant waits for a second factor.
    (MfaRequiredError, "mfa_required", 401),
    (InvalidClientError, "invalid_client", 401),
    (InvalidScopeError, "invalid_scope", 400),
    (UnauthorizedClientError, "unauthorized_client", 400),
    # The right password on an unverified account: the grant is refused, not the client.
    (EmailNotVerifiedError, "invalid_grant", 400),
    (InvalidValueError, "invalid_request", 400),
    (AuthenticationError, "invalid_grant", 400),
    # An authenticated caller lacking a permission (introspection without
    # tokens:introspect): RFC 6750 §3.1.
    (PermissionDeniedError, "insufficient_scope", 403),
)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}

OAUTH_ROUTE_FLAG = "hexahub.oauth_errors"


def envelope(
    request_id: str | None,
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "error": code,
        "message": message,
        "request_id": request_id,
    }
    if details is not None:
        body["details"] = details
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers)


def rate_limit_headers(error: RateLimitedError) -> dict[str, str]:
    """RFC 9110 Retry-After, and the IETF RateLimit header fields draft."""
    return {
        "Retry-After": str(error.retry_after),
        "RateLimit-Limit": str(error.limit),
        "RateLimit-Remaining": str(error.remaining),
        "RateLimit-Reset": str(error.reset_seconds),
    }


def _rid(request: Request) -> str | None:
    return request.scope.get("request_id")


def status_of(error: DomainError) -> int:
    for cls, status in ERROR_STATUS:
        if isinstance(error, cls):
            return status
    return 400


def _challenge(error: DomainError) -> dict[str, str]:
    """RFC 6750 §3: a 401 names the scheme, and the error when a token was presented."""
    if isinstance(error, InvalidTokenError):
        return {"WWW-Authenticate": 'Bearer realm="hexahub", error="invalid_token"'}
    return {"WWW-Authenticate": 'Bearer realm="hexahub"'}


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    # An outage keeps its 503, and a rate limit its 429, on OAuth routes too.
    if request.scope.get(OAUTH_ROUTE_FLAG) and not isinstance(
        error, ServiceUnavailableError | RateLimitedError
    ):
        return _oauth_error(request, error)
    status = status_of(error)
    headers: dict[str, str] = {}
    details = None
    if status == 401:
        headers.update(_challenge(error))
    if isinstance(error, RateLimitedError):
        headers.update(rate_limit_headers(error))
    if isinstance(error, ServiceUnavailableError):
        headers["Retry-After"] = str(error.retry_after)
        log.warning("dependency_unavailable", error=error.code, reason=error.message)
    if isinstance(error, InvalidValueError):
        where = getattr(error, "location", None) or (
            "query" if error.field in request.query_params else "body"
        )
        details = [{"loc": [where, error.field], "msg": error.message, "type": error.detail_type}]
    extra = _mfa_challenge(error, headers)
    return envelope(
        _rid(request),
        status,
        error.code,
        error.message,
        details=details,
        headers=headers,
        extra=extra,
    )


def _mfa_challenge(error: DomainError, headers: dict[str, str]) -> dict[str, str] | None:
    """The `mfa_token` of an MFA challenge, in the body only; never cached (RFC 9111)."""
    if not isinstance(error, MfaRequiredError):
        return None
    headers.update({"Cache-Control": "no-store", "Pragma": "no-cache"})
    return {"mfa_token": error.mfa_token}


def _oauth_error(request: Request, error: DomainError) -> JSONResponse:
    code, status = "invalid_request", 400
    for cls, oauth_code, oauth_status in OAUTH_CODES:
        if isinstance(error, cls):
            code, status = oauth_code, oauth_status
            break
    if isinstance(error, MfaRequiredError):
        # The user's credentials were right, so no Basic (client) challenge: the same
        # Bearer challenge as `/login`, and the token to continue with.
        return _oauth_envelope(
            request,
            status,
            code,
            error.message,
            challenge=_challenge(error)["WWW-Authenticate"],
            extra={"mfa_token": error.mfa_token},
        )
    return _oauth_envelope(request, status, code, error.message)


def _oauth_envelope(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    challenge: str = 'Basic realm="hexahub"',
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = challenge
    return envelope(
        _rid(request),
        status,
        code,
        message,
        headers=headers,
        extra={"error_description": message, **(extra or {})},
    )


async def _edge_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, EdgeError)
    if isinstance(error, OAuthError):
        return _oauth_envelope(request, error.status, error.code, error.message)
    return envelope(_rid(request), error.status, error.code, error.message)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    # Only where and what: pydantic's `input` would echo submitted passwords and tokens.
    details = [
        {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type")}
        for item in error.errors()
    ]
    if request.scope.get(OAUTH_ROUTE_FLAG):
        message = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in details)
        return envelope(
            _rid(request),
            400,
            "invalid_request",
            message,
            details=details,
            headers={"Cache-Control": "no-store"},
            extra={"error_description": message},
        )
    return envelope(
        _rid(request), 422, "validation_error", "request validation failed", details=details
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    code = HTTP_CODES.get(status, "http_error")
    message = error.detail if isinstance(error.detail, str) else code.replace("_", " ")
    headers = dict(error.headers or {})
    if status == 405 and (allow := allow_header(request.scope)):
        # The router names only the first matching route's methods.
        headers["Allow"] = allow
    return envelope(_rid(request), status, code, message, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(EdgeError, _edge_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


def error_responses(*statuses: int, model: Any = ErrorBody) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status documented with the envelope schema (or
    `model`, e.g. the OAuth envelope or a union with the MFA challenge)."""
    return {
        status: {"model": model, "description": HTTP_CODES.get(status, "error")}
        for status in statuses
    }
