"""The hosted pages of browser sign-in: small, server-rendered, usable without
JavaScript, nothing loaded from elsewhere, under a strict Content-Security-Policy.

Every string a person reads is in `CATALOGUE` (English shipped; a translation is
another dict with the same keys). Every value put into a page is HTML-escaped.
"""

import base64
import hashlib
from html import escape
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse

CATALOGUE: dict[str, str] = {
    "sign_in.title": "Sign in",
    "sign_in.lead": "Sign in to continue to {client}.",
    "sign_in.username": "Username",
    "sign_in.password": "Password",
    "sign_in.submit": "Sign in",
    "sign_in.failed": "Wrong username or password.",
    "sign_in.rate_limited": "Too many attempts. Wait a moment and try again.",
    "sign_in.unverified": "Confirm your email address before signing in.",
    "sign_in.busy": "The service is busy. Try again shortly.",
    "sign_in.or": "Or sign in with:",
    "sign_in.with": "Sign in with {provider}",
    "external.title": "Sign in with another account",
    "external.unavailable": "The identity provider cannot be reached. Try again later.",
    "external.rejected": "The identity provider's answer could not be verified. Try again.",
    "external.link_lead": (
        "An account with the address {email} exists. Enter its password to link it to "
        "your {provider} account."
    ),
    "external.cannot_link": (
        "An account with this address exists, and {provider} does not confirm the address "
        "is yours. Sign in with your password, or ask an administrator to link the accounts."
    ),
    "external.linked": "Your accounts are linked.",
    "mfa.title": "Two-step verification",
    "mfa.lead": "Enter the code from your authenticator app, or a recovery code.",
    "mfa.code": "Code",
    "mfa.submit": "Verify",
    "mfa.failed": "That code is not right.",
    "consent.title": "Allow access",
    "consent.lead": "{client} asks to:",
    "consent.scope.openid": "Know who you are",
    "consent.scope.email": "See your email address",
    "consent.scope.profile": "See your username and name",
    "consent.allow": "Allow",
    "consent.deny": "Deny",
    "error.title": "Something went wrong",
    "error.csrf": "This form expired or did not come from this site. Go back and try again.",
    "sign_out.title": "Sign out",
    "sign_out.lead": "Do you want to sign out?",
    "sign_out.submit": "Sign out",
    "signed_out.title": "Signed out",
    "signed_out.lead": "You are signed out.",
    "verify.title": "Confirm your email address",
    "verify.done": "Thank you: your email address is confirmed.",
    "verify.failed": "This link is invalid or has expired. Ask for a new one.",
    "verify.submit": "Confirm my email address",
    "verify.lead": "Confirm that this email address is yours.",
    "reset.title": "Choose a new password",
    "reset.password": "New password",
    "reset.submit": "Set password",
    "reset.done": "Your password is changed. Sign in with the new one.",
    "reset.failed": "This link is invalid or has expired. Ask for a new one.",
}

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5;color:#111;background:#fff}label{display:block;margin-top:1rem}"
    "input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}"
    "button{margin-top:1.25rem;padding:.5rem 1rem;font-size:1rem;margin-right:.5rem}"
    ".error{color:#a00;border-left:4px solid #a00;padding-left:.5rem}"
)
# The only inline content, allowed by its hash: no 'unsafe-inline', no script at all.
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()


def t(key: str, **values: str) -> str:
    """The catalogue string, with its values escaped."""
    return CATALOGUE[key].format(**{name: escape(value) for name, value in values.items()})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def csp(*redirect_targets: str) -> str:
    # form-action also governs where a form's redirect may lead (CSP 3): the client's
    # redirect URI, which may be another origin, is allowed by name and nothing else.
    targets = " ".join(sorted({_origin(u) for u in redirect_targets if u}))
    return "; ".join(
        (
            "default-src 'none'",
            f"style-src 'sha256-{_STYLE_HASH}'",
            f"form-action 'self' {targets}".rstrip(),
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


def page(
    title_key: str, body: str, *, status: int = 200, redirect_targets: tuple[str, ...] = ()
) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{t(title_key)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{t(title_key)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": csp(*redirect_targets),
            "Cache-Control": "no-store",
        },
    )


def error_box(message: str | None) -> str:
    return f'<p class="error" role="alert">{escape(message)}</p>' if message else ""


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'


def field(name: str, label: str, *, kind: str = "text", autocomplete: str = "") -> str:
    auto = f' autocomplete="{autocomplete}"' if autocomplete else ""
    return (
        f'<label for="{name}">{label}</label>'
        f'<input id="{name}" name="{name}" type="{kind}" required{auto}>'
    )


def form(action: str, csrf: str, inner: str) -> str:
    return (
        f'<form method="post" action="{escape(action)}">{hidden("csrf_token", csrf)}{inner}</form>'
    )


def button(label: str, *, name: str = "", value: str = "") -> str:
    attributes = f' name="{escape(name)}" value="{escape(value)}"' if name else ""
    return f'<button type="submit"{attributes}>{label}</button>'


def sign_in_page(
    action: str,
    csrf: str,
    client: str,
    *,
    providers: list[tuple[str, str]] | None = None,
    error: str | None = None,
    status: int = 200,
    redirect_targets: tuple[str, ...] = (),
) -> HTMLResponse:
    body = f"<p>{t('sign_in.lead', client=client)}</p>{error_box(error)}" + form(
        action,
        csrf,
        field("username", t("sign_in.username"), autocomplete="username")
        + field("password", t("sign_in.password"), kind="password", autocomplete="current-password")
        + button(t("sign_in.submit")),
    )
    body += _provider_links(providers or [])
    return page("sign_in.title", body, status=status, redirect_targets=redirect_targets)


def _provider_links(providers: list[tuple[str, str]]) -> str:
    if not providers:
        return ""
    links = "".join(
        f'<li><a href="{escape(href)}">{t("sign_in.with", provider=name)}</a></li>'
        for name, href in providers
    )
    return f"<p>{t('sign_in.or')}</p><ul>{links}</ul>"


def mfa_page(
    action: str,
    csrf: str,
    mfa_token: str,
    *,
    error: str | None = None,
    status: int = 200,
    redirect_targets: tuple[str, ...] = (),
) -> HTMLResponse:
    body = f"<p>{t('mfa.lead')}</p>{error_box(error)}" + form(
        action,
        csrf,
        hidden("mfa_token", mfa_token)
        + field("code", t("mfa.code"), autocomplete="one-time-code")
        + button(t("mfa.submit")),
    )
    return page("mfa.title", body, status=status, redirect_targets=redirect_targets)


def consent_page(
    action: str, csrf: str, client: str, scopes: tuple[str, ...], redirect_uri: str
) -> HTMLResponse:
    items = "".join(
        f"<li>{t('consent.scope.' + s)}</li>" for s in scopes if f"consent.scope.{s}" in CATALOGUE
    )
    body = f"<p>{t('consent.lead', client=client)}</p><ul>{items}</ul>" + form(
        action,
        csrf,
        button(t("consent.allow"), name="decision", value="allow")
        + button(t("consent.deny"), name="decision", value="deny"),
    )
    return page("consent.title", body, redirect_targets=(redirect_uri,))


def message_page(title_key: str, message: str, *, status: int = 200) -> HTMLResponse:
    return page(title_key, f"<p>{escape(message)}</p>", status=status)


def error_page(description: str, *, status: int = 400) -> HTMLResponse:
    return message_page("error.title", description, status=status)
