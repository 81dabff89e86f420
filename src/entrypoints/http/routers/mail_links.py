"""The pages the mailed links open: `/verify-email?token=…` and `/reset-password?token=…`.

Opening a link only shows a form; the token is spent by its POST (CSRF-checked). Mail
scanners and link previews fetch links with GET, and must not use a one-time token up.
HTML, not the JSON API: left out of the OpenAPI document, as the sign-in pages are;
`/api/v1/auth/verify-email` and `/password-reset/confirm` are the API for the same.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from application.errors import InvalidOneTimeTokenError, RateLimitedError
from application.identity.use_cases.verification import ResetPasswordCommand, VerifyEmailCommand
from domain.common.errors import InvalidValueError
from entrypoints.http import pages
from entrypoints.http.routers.signin import csrf_of, form_of

router = APIRouter(include_in_schema=False)
_MAX_TOKEN = 512


def _token_page(request: Request, title: str, lead: str, inner: str, action: str) -> Response:
    csrf = csrf_of(request)
    cookie, token = csrf.token(request)
    link_token = request.query_params.get("token", "")[:_MAX_TOKEN]
    body = f"<p>{lead}</p>" + pages.form(action, token, pages.hidden("token", link_token) + inner)
    return csrf.attach(pages.page(title, body), cookie)


@router.get("/verify-email")
async def verify_email_page(request: Request) -> Response:
    return _token_page(
        request,
        "verify.title",
        pages.t("verify.lead"),
        pages.button(pages.t("verify.submit")),
        "/verify-email",
    )


@router.post("/verify-email")
async def verify_email(request: Request) -> Response:
    form = await form_of(request)
    if not csrf_of(request).valid(request, form.get("csrf_token")):
        return pages.error_page(pages.t("error.csrf"), status=403)
    container = request.app.state.container
    try:
        await container.verify_email().execute(VerifyEmailCommand(token=form.get("token", "")))
    except (InvalidOneTimeTokenError, InvalidValueError):
        return pages.message_page("verify.title", pages.t("verify.failed"), status=400)
    return pages.message_page("verify.title", pages.t("verify.done"))


@router.get("/reset-password")
async def reset_password_page(request: Request) -> Response:
    return _token_page(
        request,
        "reset.title",
        "",
        pages.field(
            "new_password", pages.t("reset.password"), kind="password", autocomplete="new-password"
        )
        + pages.button(pages.t("reset.submit")),
        "/reset-password",
    )


@router.post("/reset-password")
async def reset_password(request: Request) -> Response:
    form = await form_of(request)
    if not csrf_of(request).valid(request, form.get("csrf_token")):
        return pages.error_page(pages.t("error.csrf"), status=403)
    container = request.app.state.container
    try:
        await container.reset_password().execute(
            ResetPasswordCommand(
                token=form.get("token", ""), new_password=form.get("new_password", "")
            )
        )
    except InvalidOneTimeTokenError:
        return pages.message_page("reset.title", pages.t("reset.failed"), status=400)
    except RateLimitedError:
        return pages.message_page("reset.title", pages.t("sign_in.rate_limited"), status=429)
    except InvalidValueError as weak:
        # The password rule's own words (too short, too common): shown, then try again.
        return pages.message_page("reset.title", str(weak), status=422)
    return pages.message_page("reset.title", pages.t("reset.done"))
