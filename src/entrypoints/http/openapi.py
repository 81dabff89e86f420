"""The OpenAPI document, made to tell the truth.

FastAPI derives the paths and schemas from the routes and the pydantic models; this
module adds what only the application knows, once per app:

- every answer an operation can give, in the error envelope: 400 for a body that cannot
  be parsed, 413, 415 and 422 wherever a body or a parameter is read, 401 wherever
  credentials are required, 429 and 503 wherever the request budget applies, 500
  everywhere (FastAPI's own `HTTPValidationError` is never sent, so it is not shown);
- the password policy's lengths, from settings, on every field that sets a password;
- descriptions dedented, so Markdown renders them as text, not as code blocks;
- `servers`: `PUBLIC_BASE_URL` when set, else the relative `/`;
- the security schemes of every operation that needs a caller (`current_principal`),
  declared here rather than as dependencies solved on every request.
"""

import inspect
import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from entrypoints.http.dependencies import PRINCIPAL_SCHEMES, current_principal
from entrypoints.http.errors import HTTP_CODES
from entrypoints.http.middleware.throttle import EXEMPT
from entrypoints.http.schemas.users import NEW_PASSWORD_MARKER

ENVELOPE = "#/components/schemas/ErrorBody"
OAUTH_ENVELOPE = "#/components/schemas/OAuthErrorBody"
FORM = "application/x-www-form-urlencoded"

TAGS: list[dict[str, str]] = [
    {
        "name": "auth",
        "description": "Registration, sign-in with rotating refresh tokens, the caller's own "
        "account and sessions, email verification and password reset.",
    },
    {
        "name": "mfa",
        "description": "TOTP second factor: set up, confirm (ten recovery codes), disable, and "
        "the second step of a sign-in answered `mfa_required`.",
    },
    {
        "name": "oauth2",
        "description": "OAuth 2.0 form endpoints for stock clients and resource servers: token "
        "(RFC 6749), revocation (RFC 7009) and introspection (RFC 7662). Errors carry RFC 6749 "
        "§5.2 codes and `error_description`.",
    },
    {
        "name": "users",
        "description": "Account administration (`users:read`, `users:write`): list with signed "
        "cursors, create, replace, update, delete, assign roles, lift a lockout.",
    },
    {
        "name": "roles",
        "description": "Role definitions (`roles:manage`). `admin`, `user` and `auditor` are "
        "built in and fixed.",
    },
    {
        "name": "api-keys",
        "description": "Long-lived keys (`X-API-Key: hx_…`) acting as their owner within their "
        "scopes; the secret is shown once.",
    },
    {"name": "audit", "description": "The append-only audit trail (`audit:read`)."},
    {
        "name": "clients",
        "description": "Service clients for the client-credentials grant (`clients:manage`); "
        "the secret is shown once.",
    },
    {"name": "keys", "description": "Signing-key rotation (`keys:manage`)."},
    {
        "name": "releases",
        "description": "Releases of services (`releases:read`, `releases:write`): draft, "
        "ready, deprecated. `POST` honours `Idempotency-Key`.",
    },
    {
        "name": "environments",
        "description": "Where releases run, in promotion order (`environments:manage` to add).",
    },
    {
        "name": "deployments",
        "description": "A release going to an environment (`deployments:write`, and "
        "`deployments:protected` for protected ones): one active per environment, promotion "
        "order enforced. `POST` honours `Idempotency-Key`.",
    },
    {
        "name": "webhooks",
        "description": "Signed deliveries of committed events (Standard Webhooks) "
        "(`webhooks:manage`); the secret is shown once. Live events over WebSocket "
        "(`GET /api/v1/events`) and Server-Sent Events (`GET /api/v1/events/stream`) are "
        "described in the README: OpenAPI cannot describe a WebSocket.",
    },
    {
        "name": "openid-connect",
        "description": "OpenID Connect provider: UserInfo and consents here; the browser "
        "endpoints (`/oauth2/authorize`, `/oauth2/logout`) answer HTML and redirects and are "
        "described by `/.well-known/openid-configuration` instead.",
    },
    {
        "name": "discovery",
        "description": "Public signing keys (RFC 7517) and provider metadata (OpenID Connect "
        "Discovery, RFC 8414).",
    },
    {
        "name": "platform",
        "description": "Service identity, liveness and readiness. Not rate limited.",
    },
]

_DESCRIPTIONS = {
    400: "Bad request: the body could not be parsed, or a value only the service can judge "
    "(a token, a cursor, the current password) was refused",
    401: "Not authenticated: credentials missing, invalid or expired; `WWW-Authenticate` "
    "names the scheme",
    403: "Authenticated, but not allowed",
    404: "No such resource",
    409: "Conflicts with the current state",
    413: "The body is larger than `MAX_BODY_BYTES`",
    415: "The body is not in the media type this operation takes",
    422: "A value failed validation; `details` lists each field",
    429: "Over a rate limit; retry after `Retry-After` seconds",
    500: "An unexpected failure; nothing internal is shown",
    503: "A dependency is unavailable; retry after `Retry-After` seconds",
}

_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The scheme to authenticate with (RFC 9110 §11.6.1, RFC 6750 §3)",
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}},
        "RateLimit-Limit": {"schema": {"type": "integer"}},
        "RateLimit-Remaining": {"schema": {"type": "integer"}},
        "RateLimit-Reset": {"schema": {"type": "integer"}},
    },
    503: {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
}


def operation_id(route: APIRoute) -> str:
    """The readable default for a route without an explicit `operation_id`:
    `list_users` becomes `listUsers`."""
    head, *rest = route.name.split("_")
    return head + "".join(word.capitalize() for word in rest)


_ACRONYMS = {"api": "API", "jwks": "JWKS", "mfa": "MFA", "openid": "OpenID", "totp": "TOTP"}


def _words(operation_id: str) -> str:
    """`getOwnProfile` reads "Get own profile", `verifyMfa` "Verify MFA"."""
    found: list[str] = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", operation_id)
    text = " ".join(_ACRONYMS.get(w.lower(), w.lower()) for w in found)
    return text[:1].upper() + text[1:]


def servers(public_base_url: str | None) -> list[dict[str, str]]:
    return [{"url": public_base_url.rstrip("/") or "/"}] if public_base_url else [{"url": "/"}]


def install_openapi(app: FastAPI, *, password_bounds: tuple[int, int]) -> None:
    """Replace `app.openapi` with one that builds FastAPI's document once, then refines it."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = declare_principal_security(app, build())
            app.openapi_schema = refine(document, password_bounds=password_bounds)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def declare_principal_security(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """The schemes `current_principal` accepts, on each operation that depends on it, as
    FastAPI writes them for security dependencies (taken from a probe app declaring
    `PRINCIPAL_SCHEMES`, so the document is what it was when they were dependencies)."""
    probe = FastAPI()
    probe.get("/", dependencies=PRINCIPAL_SCHEMES)(lambda: None)
    declared = probe.openapi()
    requirements = declared["paths"]["/"]["get"]["security"]
    schemes = declared["components"]["securitySchemes"]
    paths = document.get("paths", {})
    declared_any = False
    # Routes as FastAPI's own document walks them (through included routers).
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not (isinstance(route, APIRoute) and _depends_on(route.dependant, current_principal)):
            continue
        path = paths.get(context.path_format or route.path_format, {})
        for method in context.methods or route.methods or ():
            operation = path.get(method.lower())
            if operation is None:
                continue
            security = operation.setdefault("security", [])
            security += [r for r in requirements if r not in security]
            declared_any = True
    if declared_any:
        components = document.setdefault("components", {})
        components.setdefault("securitySchemes", {}).update(schemes)
    return document


def _depends_on(dependant: Dependant, call: Any) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def refine(document: dict[str, Any], *, password_bounds: tuple[int, int]) -> dict[str, Any]:
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    for path, _, operation in _operations(document):
        # FastAPI titles the function name ("Me"); the operation id reads better.
        operation["summary"] = _words(operation["operationId"])
        if "description" in operation:
            operation["description"] = inspect.cleandoc(operation["description"])
        _declare_answers(path, operation, schemas)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for schema in schemas.values():
        _apply_password_policy(schema, password_bounds)
        if "description" in schema:
            schema["description"] = inspect.cleandoc(schema["description"])
    for schema in _form_schemas(document, schemas):
        _drop_null_alternatives(schema)
    return document


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "patch", "delete", "head", "options", "trace"}:
                yield path, method, operation


def _declare_answers(path: str, operation: dict[str, Any], schemas: dict[str, Any]) -> None:
    content = operation.get("requestBody", {}).get("content", {})
    form = FORM in content
    statuses = {500}
    if content:
        statuses |= {400, 413, 415} | ({400} if form else {422})
    if operation.get("parameters"):
        statuses.add(400 if form else 422)
    if operation.get("security"):
        statuses.add(401)
    if form:
        # The OAuth routes answer a bad field 400 `invalid_request` (RFC 6749 §5.2).
        operation.get("responses", {}).pop("422", None)
    if not path.startswith(EXEMPT):
        statuses |= {429, 503}
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in sorted(statuses):
        responses.setdefault(str(status), {})
    for key, response in responses.items():
        if not key.isdigit() or int(key) < 400:
            continue
        status = int(key)
        # The OAuth routes declare OAuthErrorBody themselves, so its schema is present.
        oauth = form and status in (400, 401, 403) and "OAuthErrorBody" in schemas
        if _needs_envelope(response):
            response["content"] = {
                "application/json": {"schema": {"$ref": OAUTH_ENVELOPE if oauth else ENVELOPE}}
            }
        if response.get("description", "") in _PLACEHOLDERS | {""}:
            response["description"] = _DESCRIPTIONS.get(status, "Error")
        if status in _HEADERS:
            response.setdefault("headers", _HEADERS[status])
    operation["responses"] = dict(sorted(responses.items()))


# Descriptions that say nothing beyond the status: FastAPI's defaults and bare codes.
_PLACEHOLDERS = (
    {"Validation Error", "Additional Response", "Successful Response"}
    | {status.phrase for status in HTTPStatus}
    | set(HTTP_CODES.values())
)


def _needs_envelope(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    return schema is None or schema == {"$ref": "#/components/schemas/HTTPValidationError"}


def _apply_password_policy(schema: Any, bounds: tuple[int, int]) -> None:
    for node in _walk(schema):
        if node.pop(NEW_PASSWORD_MARKER, False):
            node["minLength"], node["maxLength"] = bounds


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _form_schemas(document: dict[str, Any], schemas: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for _, _, operation in _operations(document):
        schema = operation.get("requestBody", {}).get("content", {}).get(FORM, {}).get("schema")
        if schema and "$ref" in schema:
            yield schemas[schema["$ref"].rsplit("/", 1)[-1]]


def _drop_null_alternatives(schema: dict[str, Any]) -> None:
    """A form field is absent or a string: `null` cannot be sent in a form."""
    for prop in schema.get("properties", {}).values():
        alternatives = prop.get("anyOf")
        if alternatives is None:
            continue
        kept = [a for a in alternatives if a != {"type": "null"}]
        if len(kept) == 1:
            del prop["anyOf"]
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept
