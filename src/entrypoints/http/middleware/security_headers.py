"""Security headers on every response, per the OWASP HTTP Headers Cheat Sheet.

https://cheatsheetseries.owasp.org/cheatsheets/HTTP_Headers_Cheat_Sheet.html

Pure ASGI (not BaseHTTPMiddleware): the headers are added to `http.response.start` as it
passes, bodies stream untouched. A header the application already set is left alone, so
a route can loosen one deliberately.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# An API answers JSON, never a page: nothing may load, and nobody may frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

# Swagger UI and ReDoc are served from this origin (no CDN). FastAPI's HTML for both
# starts the UI from an inline <script>, and both inject inline styles, so those two
# directives need 'unsafe-inline' — on the docs paths only, which carry no user data.
# Swagger UI shows inline SVG icons as data: URIs; ReDoc runs its search in a blob:
# worker; both fetch the OpenAPI document from this origin.
DOCS_CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src blob:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)

# Two years with subdomains: the value hstspreload.org asks for (RFC 6797 §6.1).
HSTS = "max-age=63072000; includeSubDomains"

# Powerful browser features an identity API never uses, switched off.
PERMISSIONS_POLICY = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"

_COMMON: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),  # for browsers that predate frame-ancestors
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
)


class SecurityHeadersMiddleware:
    """Adds the headers above; the docs CSP on `docs_paths` (each path and below).

    `hsts=True` sends Strict-Transport-Security on every response: set it when TLS ends
    at a proxy, so the scheme seen here is http. Otherwise HSTS goes only on https
    requests, since browsers ignore it over plain http (RFC 6797 §8.1).
    """

    def __init__(self, app: ASGIApp, *, hsts: bool, docs_paths: tuple[str, ...]) -> None:
        self.app = app
        self.hsts = hsts
        self.docs_paths = tuple(path.rstrip("/") for path in docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if self._is_docs(scope["path"]) else API_CSP
        hsts = self.hsts or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _COMMON:
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
                if hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _is_docs(self, path: str) -> bool:
        return any(path == docs or path.startswith(docs + "/") for docs in self.docs_paths)
