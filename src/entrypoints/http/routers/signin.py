"""`/oauth2/*`: HexaHub as an OpenID Connect provider for browsers (authorization code
flow with PKCE, hosted sign-in, MFA and consent pages, userinfo, RP-initiated logout).

The page routes answer HTML and redirects, not the JSON API, so they are left out of
the OpenAPI document (`include_in_schema=False`): their contract is OAuth 2.0 / OpenID
Connect and the discovery document, and Schemathesis cannot judge a sign-in page.
`/oauth2/userinfo` is JSON and documented.

Security decisions:
- No redirect ever goes to a URI not registered for the client (RFC 6749 §4.1.2.1);
  page forms post back to this origin only; there is no `next` parameter to abuse.
- The sign-in cookie holds the refresh token of the login session the page opened
  (HttpOnly, SameSite=Lax, Secure outside development, path `/oauth2`): that session
  is revoked by logout, logout-all, a password change or an administrator.
- Every form carries a signed double-submit CSRF token (`entrypoints.http.csrf`).
- Sign-in goes through the same `LogIn` as `/login`: rate limits, lockout, the MFA
  step and `require_verified_email` all apply.
"""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from application.errors import (
    EmailNotVerifiedError,
    InvalidCredentialsError,
    InvalidMfaCodeError,
    InvalidTokenError,
    MfaRequiredError,
    RateLimitedError,
    ServiceUnavailableError,
)
from application.identity.use_cases.log_in import LogInCommand
from application.identity.use_cases.verify_mfa import VerifyMfaCommand
from application.signin.requests import (
    AuthorizationRequest,
    ErrorRedirect,
    Rejected,
    SignedIn,
    ValidRequest,
)
from application.signin.use_cases.end_session import ConfirmSignOut, EndSessionCommand
from application.signin.use_cases.issue_code import ConsentNeeded
from application.signin.use_cases.validate_authorization import ValidateAuthorization
from domain.common.errors import InvalidValueError
from entrypoints.config.settings import Environment
from entrypoints.http import pages
from entrypoints.http.csrf import Csrf
from entrypoints.http.dependencies import CurrentPrincipal, client_ip, container_of, user_agent
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.signin import ConsentListOut, ConsentOut, UserInfoOut

SIGN_IN_COOKIE = "hexahub_signin"
COOKIE_PATH = "/oauth2"
_MAX_FIELD = 4096

router = APIRouter(prefix="/oauth2", tags=["openid-connect"])


def csrf_of(request: Request) -> Csrf:
    container = container_of(request)
    return Csrf(container.jwt_secret().encode(), secure=secure_of(request))


def secure_of(request: Request) -> bool:
    return container_of(request).settings().environment is not Environment.DEVELOPMENT


def _authorization_request(request: Request) -> AuthorizationRequest:
    q = request.query_params
    return AuthorizationRequest(
        client_id=q.get("client_id"),
        redirect_uri=q.get("redirect_uri"),
        response_type=q.get("response_type"),
        scope=q.get("scope"),
        state=q.get("state"),
        nonce=q.get("nonce"),
        code_challenge=q.get("code_challenge"),
        code_challenge_method=q.get("code_challenge_method"),
    )


def _to_client(redirect_uri: str, params: dict[str, str | None]) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    separator = "&" if "?" in redirect_uri else "?"
    # 303: the browser follows with GET, whatever method brought it here.
    return RedirectResponse(f"{redirect_uri}{separator}{query}", status_code=303)


def _error_redirect(request: Request, error: ErrorRedirect) -> RedirectResponse:
    return _to_client(
        error.redirect_uri,
        {
            "error": error.error,
            "error_description": error.description,
            "state": error.state,
            "iss": container_of(request).settings().oidc_issuer,  # RFC 9207
        },
    )


async def validated(request: Request) -> ValidRequest | Response:
    validate: ValidateAuthorization = container_of(request).validate_authorization()
    outcome = await validate.execute(_authorization_request(request))
    if isinstance(outcome, Rejected):
        return pages.error_page(f"{outcome.error}: {outcome.description}", status=400)
    if isinstance(outcome, ErrorRedirect):
        return _error_redirect(request, outcome)
    return outcome


async def form_of(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v[:_MAX_FIELD] for k, v in form.items() if isinstance(v, str)}


async def _signed_in(request: Request) -> SignedIn | None:
    cookie = request.cookies.get(SIGN_IN_COOKIE)
    signed_in: SignedIn | None = await container_of(request).resolve_sign_in().execute(cookie)
    return signed_in


async def _continue(
    request: Request, valid: ValidRequest, signed_in: SignedIn, *, approve: bool = False
) -> Response:
    """A signed-in person: consent if needed, else the code goes back to the client."""
    issued = (
        await container_of(request)
        .issue_authorization_code()
        .execute(valid, signed_in, approve=approve)
    )
    if isinstance(issued, ConsentNeeded):
        csrf = csrf_of(request)
        cookie, token = csrf.token(request)
        action = "/oauth2/authorize/consent?" + request.url.query
        page = pages.consent_page(
            action, token, valid.client.name, valid.scopes, valid.redirect_uri
        )
        return csrf.attach(page, cookie)
    return _to_client(
        valid.redirect_uri,
        {
            "code": issued.code,
            "state": valid.state,
            "iss": container_of(request).settings().oidc_issuer,
        },
    )


def sign_in_form(
    request: Request, valid: ValidRequest, *, error: str | None = None, status: int = 200
) -> Response:
    csrf = csrf_of(request)
    cookie, token = csrf.token(request)
    page = pages.sign_in_page(
        "/oauth2/authorize?" + request.url.query,
        token,
        valid.client.name,
        providers=[
            (p.display_name, f"/oauth2/external/{p.name}/start?{request.url.query}")
            for p in container_of(request).identity_providers().providers()
        ],
        error=error,
        status=status,
        redirect_targets=(valid.redirect_uri,),
    )
    return csrf.attach(page, cookie)


def _mfa_form(
    request: Request,
    valid: ValidRequest,
    mfa_token: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    csrf = csrf_of(request)
    cookie, token = csrf.token(request)
    page = pages.mfa_page(
        "/oauth2/authorize/mfa?" + request.url.query,
        token,
        mfa_token,
        error=error,
        status=status,
        redirect_targets=(valid.redirect_uri,),
    )
    return csrf.attach(page, cookie)


def signed_in_redirect(
    request: Request, refresh_token: str, max_age: int, *, query: str | None = None
) -> Response:
    """Back to the authorization request, now with a sign-in session."""
    back = request.url.query if query is None else query
    response = RedirectResponse("/oauth2/authorize?" + back, status_code=303)
    response.set_cookie(
        SIGN_IN_COOKIE,
        refresh_token,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        secure=secure_of(request),
        samesite="lax",
    )
    return response


@router.get("/authorize", include_in_schema=False)
async def authorize(request: Request) -> Response:
    valid = await validated(request)
    if not isinstance(valid, ValidRequest):
        return valid
    signed_in = await _signed_in(request)
    if signed_in is None:
        return sign_in_form(request, valid)
    return await _continue(request, valid, signed_in)


def _refused(error: Exception) -> tuple[str, int] | None:
    """How a refused sign-in reads on the page; None for what is not a refusal."""
    if isinstance(error, RateLimitedError):
        return pages.t("sign_in.rate_limited"), 429
    if isinstance(error, EmailNotVerifiedError):
        return pages.t("sign_in.unverified"), 403
    if isinstance(error, InvalidCredentialsError):
        return pages.t("sign_in.failed"), 401
    if isinstance(error, ServiceUnavailableError):
        return pages.t("sign_in.busy"), 503
    return None


async def _posted(request: Request) -> tuple[ValidRequest, dict[str, str]] | Response:
    """A form posted back to an authorization request: the request still valid, and
    the form carrying this browser's CSRF token."""
    valid = await validated(request)
    if not isinstance(valid, ValidRequest):
        return valid
    form = await form_of(request)
    if not csrf_of(request).valid(request, form.get("csrf_token")):
        return pages.error_page(pages.t("error.csrf"), status=403)
    return valid, form


@router.post("/authorize", include_in_schema=False)
async def sign_in(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    valid, form = posted
    container = container_of(request)
    try:
        pair = await container.log_in().execute(
            LogInCommand(
                login=form.get("username", ""),
                password=form.get("password", ""),
                ip=client_ip(request),
                user_agent=user_agent(request),
            )
        )
    except MfaRequiredError as challenge:
        return _mfa_form(request, valid, challenge.mfa_token)
    except (
        InvalidValueError,
        RateLimitedError,
        InvalidCredentialsError,
        ServiceUnavailableError,
        EmailNotVerifiedError,
    ) as error:
        message, status = _refused(error) or (pages.t("sign_in.failed"), 401)
        return sign_in_form(request, valid, error=message, status=status)
    return signed_in_redirect(request, pair.refresh_token, pair.refresh_expires_in)


@router.post("/authorize/mfa", include_in_schema=False)
async def sign_in_mfa(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    valid, form = posted
    mfa_token = form.get("mfa_token", "")
    try:
        pair = (
            await container_of(request)
            .verify_mfa()
            .execute(
                VerifyMfaCommand(
                    mfa_token=mfa_token,
                    code=form.get("code", ""),
                    ip=client_ip(request),
                    user_agent=user_agent(request),
                )
            )
        )
    except InvalidTokenError:
        # The challenge expired: start the sign-in again.
        return sign_in_form(request, valid, error=pages.t("sign_in.failed"), status=401)
    except (InvalidMfaCodeError, InvalidCredentialsError, InvalidValueError):
        return _mfa_form(request, valid, mfa_token, error=pages.t("mfa.failed"), status=401)
    except (RateLimitedError, ServiceUnavailableError) as error:
        message, status = _refused(error) or (pages.t("sign_in.failed"), 401)
        return _mfa_form(request, valid, mfa_token, error=message, status=status)
    return signed_in_redirect(request, pair.refresh_token, pair.refresh_expires_in)


@router.post("/authorize/consent", include_in_schema=False)
async def consent(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    valid, form = posted
    signed_in = await _signed_in(request)
    if signed_in is None:
        return sign_in_form(request, valid)
    if form.get("decision") != "allow":
        return _error_redirect(
            request,
            ErrorRedirect(
                redirect_uri=valid.redirect_uri,
                error="access_denied",
                description="the person did not allow access",
                state=valid.state,
            ),
        )
    return await _continue(request, valid, signed_in, approve=True)


@router.post(
    "/userinfo",
    operation_id="postUserInfo",
    responses=error_responses(401, 403, 503),
    response_model_exclude_none=True,
    description="The same as `GET` (OIDC Core §5.3: both methods are supported).",
)
@router.get(
    "/userinfo",
    operation_id="getUserInfo",
    responses=error_responses(401, 403, 503),
    response_model_exclude_none=True,
)
async def userinfo(principal: CurrentPrincipal, request: Request) -> UserInfoOut:
    """OpenID Connect UserInfo (Core §5.3): the claims of the person whose access token
    this is (a login session's token; API keys and service clients are refused)."""
    claims = await container_of(request).get_user_info().execute(principal)
    return UserInfoOut.model_validate(claims)


async def _end_session(request: Request, params: dict[str, str], *, confirmed: bool) -> Response:
    command = EndSessionCommand(
        id_token_hint=params.get("id_token_hint") or None,
        post_logout_redirect_uri=params.get("post_logout_redirect_uri") or None,
        client_id=params.get("client_id") or None,
        signed_in=await _signed_in(request),
        confirmed=confirmed,
    )
    try:
        outcome = await container_of(request).end_session().execute(command)
    except InvalidValueError as error:
        return pages.error_page(str(error), status=400)
    if isinstance(outcome, ConfirmSignOut):
        csrf = csrf_of(request)
        cookie, token = csrf.token(request)
        kept = "".join(
            pages.hidden(name, params[name])
            for name in ("post_logout_redirect_uri", "client_id", "state")
            if params.get(name)
        )
        body = f"<p>{pages.t('sign_out.lead')}</p>" + pages.form(
            "/oauth2/logout", token, kept + pages.button(pages.t("sign_out.submit"))
        )
        redirect_to = params.get("post_logout_redirect_uri") or ""
        return csrf.attach(
            pages.page("sign_out.title", body, redirect_targets=(redirect_to,)), cookie
        )
    if outcome.redirect_uri is not None:
        response: Response = _to_client(outcome.redirect_uri, {"state": params.get("state")})
    else:
        response = pages.message_page("signed_out.title", pages.t("signed_out.lead"))
    response.delete_cookie(
        SIGN_IN_COOKIE, path=COOKIE_PATH, secure=secure_of(request), httponly=True
    )
    return response


@router.get("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    """RP-Initiated Logout 1.0 §2; with a valid `id_token_hint` at once, otherwise after
    the person confirms."""
    params = {k: v[:_MAX_FIELD] for k, v in request.query_params.items()}
    return await _end_session(request, params, confirmed=False)


@router.post("/logout", include_in_schema=False)
async def logout_confirmed(request: Request) -> Response:
    form = await form_of(request)
    if not csrf_of(request).valid(request, form.get("csrf_token")):
        return pages.error_page(pages.t("error.csrf"), status=403)
    return await _end_session(request, form, confirmed=True)


consents_router = APIRouter(prefix="/api/v1/auth/consents", tags=["openid-connect"])


@consents_router.get("", operation_id="listConsents", responses=error_responses(401, 403, 503))
async def list_consents(principal: CurrentPrincipal, request: Request) -> ConsentListOut:
    """The third-party applications you allowed to sign you in, and for which scopes."""
    consents = await container_of(request).list_consents().execute(principal)
    return ConsentListOut(items=[ConsentOut.of(c) for c in consents])


@consents_router.delete(
    "/{client_id}",
    operation_id="revokeConsent",
    status_code=204,
    responses=error_responses(401, 403, 503),
)
async def revoke_consent(
    client_id: Annotated[str, Path(max_length=64)], principal: CurrentPrincipal, request: Request
) -> None:
    """Withdraw a consent: the application asks again next time (204 also when there was
    none). Tokens it already holds stay until their sessions end."""
    await container_of(request).revoke_consent().execute(principal, client_id)
