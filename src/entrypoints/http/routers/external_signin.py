"""`/oauth2/external/{provider}/…`: sign in through an external OpenID provider (the
authorization code flow with PKCE and a nonce, run by this service as the client), and
`/api/v1/auth/external-identities`: the links a person can see and remove.

The flow's state, nonce and verifier travel in a sealed, HttpOnly cookie scoped to
`/oauth2/external` (`entrypoints.http.sealed`); the callback must present the same
`state` (CSRF of the login itself, RFC 6749 §10.12). Where the flow started is the
original authorization request, which the callback goes back to; nothing else can be
named as a destination (no open redirect). An upstream that is down is a page saying
so (503), never a 500.
"""

import base64
import hashlib
import secrets
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response

from application.errors import (
    ConflictError,
    InvalidCredentialsError,
    MfaRequiredError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    UnknownProviderError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from application.identity.use_cases.log_in import LogInCommand
from application.ports.identity_providers import UpstreamIdentity
from application.signin.requests import ValidRequest
from application.signin.use_cases.manage_external_identities import (
    AdminLinkCommand,
    AdminLinkExternalIdentity,
)
from application.signin.use_cases.sign_in_externally import LinkRequired
from domain.common.errors import InvalidValueError
from entrypoints.http import pages
from entrypoints.http.dependencies import (
    CurrentPrincipal,
    client_ip,
    container_of,
    require_json,
    user_agent,
)
from entrypoints.http.errors import error_responses
from entrypoints.http.routers.signin import (
    csrf_of,
    form_of,
    secure_of,
    signed_in_redirect,
    validated,
)
from entrypoints.http.schemas.signin import (
    ExternalIdentityLinkIn,
    ExternalIdentityListOut,
    ExternalIdentityOut,
)
from entrypoints.http.sealed import Sealer

FLOW_COOKIE = "hexahub_external"
LINK_COOKIE = "hexahub_link"
COOKIE_PATH = "/oauth2/external"
FLOW_TTL_SECONDS = 600

router = APIRouter(prefix="/oauth2/external", include_in_schema=False)


def _sealer(request: Request) -> Sealer:
    return Sealer(("external:" + container_of(request).jwt_secret()).encode())


def _callback_uri(request: Request, provider: str) -> str:
    return f"{container_of(request).settings().oidc_issuer}/oauth2/external/{provider}/callback"


def _set(request: Request, response: Response, name: str, value: str) -> Response:
    response.set_cookie(
        name,
        value,
        max_age=FLOW_TTL_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        secure=secure_of(request),
        samesite="lax",  # the callback is a top-level GET from the provider
    )
    return response


def _problem(error: Exception) -> Response:
    if isinstance(error, UnknownProviderError):
        return pages.error_page(str(error), status=404)
    if isinstance(error, UpstreamUnavailableError | ServiceUnavailableError):
        return pages.message_page("external.title", pages.t("external.unavailable"), status=503)
    return pages.message_page("external.title", pages.t("external.rejected"), status=400)


@router.get("/{provider}/start")
async def start(provider: Annotated[str, Path(max_length=32)], request: Request) -> Response:
    valid = await validated(request)
    if not isinstance(valid, ValidRequest):
        return valid
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    try:
        url = (
            await container_of(request)
            .identity_providers()
            .authorization_url(
                provider,
                redirect_uri=_callback_uri(request, provider),
                state=state,
                nonce=nonce,
                code_challenge=challenge,
            )
        )
    except (UnknownProviderError, UpstreamUnavailableError) as error:
        return _problem(error)
    flow = {"p": provider, "s": state, "n": nonce, "v": verifier, "q": request.url.query}
    sealed = _sealer(request).seal(flow, ttl_seconds=FLOW_TTL_SECONDS)
    return _set(request, RedirectResponse(url, status_code=303), FLOW_COOKIE, sealed)


@router.get("/{provider}/callback")
async def callback(provider: Annotated[str, Path(max_length=32)], request: Request) -> Response:
    flow = _sealer(request).open(request.cookies.get(FLOW_COOKIE))
    state = request.query_params.get("state")
    code = request.query_params.get("code")
    if flow is None or flow.get("p") != provider or not state or state != flow.get("s"):
        return pages.error_page("this sign-in expired or was not started here", status=400)
    if not code:  # the provider answered with an error (the person declined, say)
        return pages.message_page("external.title", pages.t("external.rejected"), status=400)
    container = container_of(request)
    try:
        upstream = await container.identity_providers().exchange(
            provider,
            code=code[:4096],
            redirect_uri=_callback_uri(request, provider),
            code_verifier=flow["v"],
            nonce=flow["n"],
        )
        outcome = await container.sign_in_externally().execute(
            upstream, ip=client_ip(request), user_agent=user_agent(request)
        )
    except (UnknownProviderError, UpstreamUnavailableError, UpstreamRejectedError) as error:
        return _problem(error)
    except InvalidCredentialsError:
        return pages.message_page("external.title", pages.t("external.rejected"), status=403)
    if isinstance(outcome, LinkRequired):
        response = _link_page(request, upstream, outcome, flow["q"])
    else:
        pair = outcome.pair
        response = signed_in_redirect(
            request, pair.refresh_token, pair.refresh_expires_in, query=flow["q"]
        )
    response.delete_cookie(FLOW_COOKIE, path=COOKIE_PATH)
    return response


def _link_page(
    request: Request, upstream: UpstreamIdentity, need: LinkRequired, query: str
) -> Response:
    display = {
        p.name: p.display_name for p in container_of(request).identity_providers().providers()
    }
    name = display.get(upstream.provider, upstream.provider)
    if not need.can_link:
        return pages.message_page(
            "external.title", pages.t("external.cannot_link", provider=name), status=409
        )
    csrf = csrf_of(request)
    cookie, token = csrf.token(request)
    body = f"<p>{pages.t('external.link_lead', email=need.email, provider=name)}</p>" + pages.form(
        "/oauth2/external/link",
        token,
        pages.field(
            "password",
            pages.t("sign_in.password"),
            kind="password",
            autocomplete="current-password",
        )
        + pages.button(pages.t("sign_in.submit")),
    )
    pending = {
        "p": upstream.provider,
        "sub": upstream.subject,
        "e": upstream.email,
        "ev": upstream.email_verified,
        "q": query,
    }
    response = csrf.attach(pages.page("external.title", body), cookie)
    return _set(
        request, response, LINK_COOKIE, _sealer(request).seal(pending, ttl_seconds=FLOW_TTL_SECONDS)
    )


@router.post("/link")
async def link(request: Request) -> Response:
    form = await form_of(request)
    if not csrf_of(request).valid(request, form.get("csrf_token")):
        return pages.error_page(pages.t("error.csrf"), status=403)
    pending = _sealer(request).open(request.cookies.get(LINK_COOKIE))
    if pending is None or not pending.get("e"):
        return pages.error_page("this sign-in expired or was not started here", status=400)
    upstream = UpstreamIdentity(
        provider=pending["p"],
        subject=pending["sub"],
        email=pending["e"],
        email_verified=pending["ev"] is True,
        name=None,
    )
    container = container_of(request)
    try:
        # The password proves the account (rate limits and lockout as for /login).
        pair = await container.log_in().execute(
            LogInCommand(
                login=upstream.email or "",
                password=form.get("password", ""),
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
        )
        signed_in = await container.resolve_sign_in().execute(pair.refresh_token)
        if signed_in is None:
            raise InvalidCredentialsError()
        await container.link_external_identity().execute(signed_in.user.id, upstream)
    except MfaRequiredError:
        # Not offered here yet: link from an account that signs in with one factor,
        # or ask an administrator.
        return pages.message_page("external.title", pages.t("external.rejected"), status=403)
    except (InvalidCredentialsError, InvalidValueError, RateLimitedError):
        return pages.message_page("external.title", pages.t("sign_in.failed"), status=401)
    except (PermissionDeniedError, ConflictError):
        return pages.message_page(
            "external.title",
            pages.t("external.cannot_link", provider=upstream.provider),
            status=409,
        )
    response = signed_in_redirect(
        request, pair.refresh_token, pair.refresh_expires_in, query=pending["q"]
    )
    response.delete_cookie(LINK_COOKIE, path=COOKIE_PATH)
    return response


identities_router = APIRouter(prefix="/api/v1/auth/external-identities", tags=["openid-connect"])


@identities_router.get(
    "", operation_id="listExternalIdentities", responses=error_responses(401, 403, 503)
)
async def list_external_identities(
    principal: CurrentPrincipal, request: Request
) -> ExternalIdentityListOut:
    """The accounts at external identity providers that sign in as yours."""
    links = await container_of(request).list_external_identities().execute(principal)
    return ExternalIdentityListOut(items=[ExternalIdentityOut.of(i) for i in links])


@identities_router.delete(
    "/{provider}/{subject}",
    operation_id="unlinkExternalIdentity",
    status_code=204,
    responses=error_responses(401, 403, 409, 503),
)
async def unlink_external_identity(
    provider: Annotated[str, Path(max_length=64)],
    subject: Annotated[str, Path(max_length=255)],
    principal: CurrentPrincipal,
    request: Request,
) -> None:
    """Remove a link (204 also when there was none). The last link of an account with no
    password is kept until a password is set (409)."""
    await container_of(request).unlink_external_identity().execute(principal, provider, subject)


admin_router = APIRouter(prefix="/api/v1/users", tags=["openid-connect"])


@admin_router.post(
    "/{user_id}/external-identities",
    operation_id="linkExternalIdentity",
    status_code=201,
    dependencies=[Depends(require_json)],
    responses=error_responses(401, 403, 404, 409, 415, 422, 503),
    description=AdminLinkExternalIdentity.__doc__,
)
async def admin_link(
    user_id: UUID, body: ExternalIdentityLinkIn, principal: CurrentPrincipal, request: Request
) -> ExternalIdentityOut:
    link = (
        await container_of(request)
        .admin_link_external_identity()
        .execute(
            principal,
            AdminLinkCommand(user_id=user_id, provider=body.provider, subject=body.subject),
        )
    )
    return ExternalIdentityOut.of(link)
