"""SecurityHeadersMiddleware around a bare ASGI app: which headers, on which paths."""

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from entrypoints.http.middleware.security_headers import (
    API_CSP,
    DOCS_CSP,
    HSTS,
    SecurityHeadersMiddleware,
)

DOCS_PATHS = ("/docs", "/redoc", "/static/docs")


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-type", b"application/json")]
    if scope["path"] == "/own-csp":
        headers.append((b"content-security-policy", b"sandbox"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


def client(*, hsts: bool = False, base_url: str = "http://testserver") -> httpx.AsyncClient:
    app = SecurityHeadersMiddleware(inner, hsts=hsts, docs_paths=DOCS_PATHS)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)


async def test_every_response_carries_the_common_headers() -> None:
    async with client() as http:
        response = await http.get("/v1/users/me")
    assert response.status_code == 200
    assert response.json() == {}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]


async def test_api_responses_get_the_strict_csp() -> None:
    async with client() as http:
        response = await http.get("/v1/users/me")
    assert response.headers["content-security-policy"] == API_CSP
    assert API_CSP == "default-src 'none'; frame-ancestors 'none'"


@pytest.mark.parametrize(
    "path",
    ["/docs", "/docs/oauth2-redirect", "/redoc", "/static/docs/swagger-ui-bundle.js"],
)
async def test_the_docs_pages_and_their_assets_get_the_docs_csp(path: str) -> None:
    async with client() as http:
        response = await http.get(path)
    assert response.headers["content-security-policy"] == DOCS_CSP


@pytest.mark.parametrize("path", ["/docsx", "/redoc-evil", "/static/docsy/a.js", "/static"])
async def test_paths_that_only_start_like_the_docs_get_the_strict_csp(path: str) -> None:
    async with client() as http:
        response = await http.get(path)
    assert response.headers["content-security-policy"] == API_CSP


def test_the_docs_csp_loosens_only_what_swagger_and_redoc_need() -> None:
    directives = dict(d.split(" ", 1) for d in DOCS_CSP.split("; "))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self' 'unsafe-inline'"
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert directives["img-src"] == "'self' data:"
    assert directives["worker-src"] == "blob:"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-eval" not in DOCS_CSP
    assert "unsafe-inline" not in API_CSP


async def test_no_hsts_over_plain_http_by_default() -> None:
    async with client() as http:
        response = await http.get("/v1/users/me")
    assert "strict-transport-security" not in response.headers


async def test_hsts_on_https_requests() -> None:
    async with client(base_url="https://testserver") as http:
        response = await http.get("/v1/users/me")
    assert response.headers["strict-transport-security"] == HSTS
    assert HSTS == "max-age=63072000; includeSubDomains"


async def test_hsts_everywhere_when_asked_for_behind_a_tls_proxy() -> None:
    async with client(hsts=True) as http:
        response = await http.get("/docs")
    assert response.headers["strict-transport-security"] == HSTS


async def test_a_header_the_app_set_itself_is_kept() -> None:
    async with client() as http:
        response = await http.get("/own-csp")
    assert response.headers.get_list("content-security-policy") == ["sandbox"]
    assert response.headers["x-frame-options"] == "DENY"


async def test_non_http_scopes_pass_through_untouched() -> None:
    seen: list[str] = []

    async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    app = SecurityHeadersMiddleware(lifespan_app, hsts=True, docs_paths=DOCS_PATHS)

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError("nothing should be sent")

    await app({"type": "lifespan"}, receive, send)
    assert seen == ["lifespan"]
