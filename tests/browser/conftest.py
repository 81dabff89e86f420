"""Chromium, driven by Playwright, through the hosted pages of a real server process.

One server (the embedded default, mail to an SMTP sink in this process), one relying
party's callback (a tiny HTTP server that only records what reaches it) and one
Chromium serve the whole session; each test gets a fresh browser context (no cookies)
whose console is watched: a Content-Security-Policy violation or any other console
error fails the test.

Chromium is Debian's (`make test` installs it as root with apt-get; `CHROMIUM` names
another binary). Without it, or without Playwright, these tests skip with one line,
and fail under CI=true.
"""

import asyncio
import base64
import hashlib
import os
import re
import secrets
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from tests import backends
from tests.e2e.conftest import Server, serving
from tests.mail_catcher import MailCatcher

if TYPE_CHECKING:
    from playwright.async_api import Browser, ConsoleMessage, Page

PASSWORD = "correct horse battery staple"
ADMIN_PASSWORD = "ample orbit kettle 91"
# The machine's network is closed: Chromium's own background traffic (component
# updates, sync, QUIC probes) would only fail, slowly and noisily.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# --- the browser --------------------------------------------------------------------


@pytest.fixture(scope="session")
async def chromium() -> AsyncIterator["Browser"]:
    wanted = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    executable = shutil.which(wanted)
    if executable is None:
        backends.missing(
            f"Chromium not found at {wanted}",
            "`make test` installs Debian's chromium as root, or set CHROMIUM",
        )
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        backends.missing("Playwright is not installed", "`make setup` installs it")
    async with async_playwright() as playwright:
        # launch() gives every run a fresh, temporary user-data-dir of its own.
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@dataclass
class Tab:
    """A page in a browser context of its own, and what its console said."""

    page: "Page"
    problems: list[str] = field(default_factory=list)

    def watch(self, message: "ConsoleMessage") -> None:
        # A page's own status (401 for a wrong password) is logged as a failed load of
        # the document: that is the answer the test looks at, not a problem of the page.
        document = message.location.get("url") == self.page.url
        if document and message.text.startswith("Failed to load resource: the server"):
            return
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"{message.type}: {message.text} ({message.location})")

    async def submit(self, button: str) -> None:
        """Press a form's button and wait for the page (or redirect chain) it leads to."""
        async with self.page.expect_navigation():
            await self.page.get_by_role("button", name=button).click()

    async def sign_in(self, username: str, password: str = PASSWORD) -> None:
        await self.page.get_by_label("Username").fill(username)
        await self.page.get_by_label("Password").fill(password)
        await self.submit("Sign in")

    async def text(self) -> str:
        return await self.page.locator("main").inner_text()

    def back_at(self, request: "Authorization") -> dict[str, str]:
        """The answer the application got: the browser is at its redirect URI with the
        request's state."""
        assert self.page.url.startswith(request.redirect_uri + "?"), self.page.url
        answer = query_of(self.page.url)
        assert answer["state"] == request.state
        return answer


@pytest.fixture
async def tab(chromium: "Browser") -> AsyncIterator[Tab]:
    context = await chromium.new_context()
    page = await context.new_page()
    # Fail fast instead of the 30 s defaults: every page here is on this machine.
    page.set_default_timeout(10_000)
    page.set_default_navigation_timeout(10_000)
    tab = Tab(page)
    page.on("console", tab.watch)
    page.on("pageerror", lambda error: tab.problems.append(f"page error: {error}"))
    yield tab
    await context.close()
    if tab.problems:
        pytest.fail("the browser's console reported:\n" + "\n".join(tab.problems), pytrace=False)


# --- the server, its mail and a relying party ----------------------------------------


@pytest.fixture(scope="session")
def mail() -> Iterator[MailCatcher]:
    with MailCatcher() as catcher:
        yield catcher


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, mail: MailCatcher) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("browser")) as make:
        yield make(
            FIRST_ADMIN_EMAIL="root@example.com",
            FIRST_ADMIN_PASSWORD=ADMIN_PASSWORD,
            SMTP_HOST=mail.host,
            SMTP_PORT=str(mail.port),
            SMTP_STARTTLS="false",
            MAIL_DISPATCH_INTERVAL_SECONDS="0.1",
            # Every test registers and signs people in from 127.0.0.1; the per-address
            # limits are not what these tests are about (the per-account ones stay).
            RATE_LIMIT_REGISTER_PER_CLIENT="1000/3600",
            RATE_LIMIT_LOGIN_PER_CLIENT="1000/60",
        )


class RelyingParty(ThreadingHTTPServer):
    """The client's redirect URI: records each request's query and shows a plain page."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Callback)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.callback = f"{self.url}/callback"
        self.after_logout = f"{self.url}/signed-out"
        self.received: list[tuple[str, dict[str, str]]] = []

    def arrivals(self, state: str) -> list[tuple[str, dict[str, str]]]:
        return [(path, query) for path, query in self.received if query.get("state") == state]


class _Callback(BaseHTTPRequestHandler):
    server: RelyingParty

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        self.server.received.append((parts.path, dict(parse_qsl(parts.query))))
        body = b"<!doctype html><title>Relying party</title><p>back at the application</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: pytest shows what the assertions need


@pytest.fixture(scope="session")
def relying_party() -> Iterator[RelyingParty]:
    rp = RelyingParty()
    thread = threading.Thread(target=rp.serve_forever, daemon=True)
    thread.start()
    yield rp
    rp.shutdown()
    rp.server_close()


@pytest.fixture(scope="session")
async def api(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        yield client


async def bearer(api: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """An Authorization header value for the account, through the JSON API."""
    response = await api.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return f"Bearer {response.json()['access_token']}"


@dataclass
class Application:
    """A registered public client whose redirect URIs are the relying party's."""

    name: str
    client_id: str
    server: Server
    rp: RelyingParty

    def authorization(self) -> "Authorization":
        return Authorization(self.server.url, self.client_id, self.rp.callback)


async def register(
    api: httpx.AsyncClient, server: Server, rp: RelyingParty, name: str, *, first_party: bool
) -> Application:
    response = await api.post(
        "/api/v1/clients",
        headers={"Authorization": await bearer(api, "admin", ADMIN_PASSWORD)},
        json={
            "name": name,
            "redirect_uris": [rp.callback, rp.after_logout],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
            "first_party": first_party,
        },
    )
    assert response.status_code == 201, response.text
    return Application(name, response.json()["client_id"], server, rp)


@pytest.fixture(scope="session")
async def third_party(
    api: httpx.AsyncClient, server: Server, relying_party: RelyingParty
) -> Application:
    """Not ours: people are asked for consent."""
    return await register(api, server, relying_party, "Photo Printer", first_party=False)


@pytest.fixture(scope="session")
async def first_party(
    api: httpx.AsyncClient, server: Server, relying_party: RelyingParty
) -> Application:
    return await register(api, server, relying_party, "Wiki", first_party=True)


# --- people and requests -------------------------------------------------------------


@pytest.fixture
async def person(api: httpx.AsyncClient) -> dict[str, str]:
    """A newly registered account (the password is PASSWORD)."""
    name = f"p{secrets.token_hex(4)}"
    body = {"email": f"{name}@example.com", "username": name, "password": PASSWORD}
    response = await api.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return {**body, "id": response.json()["id"]}


@dataclass
class Authorization:
    """One authorization request as a relying party makes it, with its secrets."""

    url: str
    client_id: str
    redirect_uri: str
    state: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    @property
    def address(self) -> str:
        return f"{self.url}/oauth2/authorize?" + urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": "openid email profile",
                "state": self.state,
                "nonce": self.nonce,
                "code_challenge": self.challenge,
                "code_challenge_method": "S256",
            }
        )


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


LINK = r"(/(?:verify-email|reset-password)\?token=[^\s]+)"


async def mailed_link(mail: MailCatcher, server: Server, to: str) -> str:
    """The link in the newest mail to `to`, as an address on the server."""
    for _ in range(200):
        for message in reversed(mail.messages):
            if message["To"] == to:
                found = re.search(re.escape(server.url) + LINK, message.get_content())
                assert found, message.get_content()
                return server.url + found.group(1)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail to {to}")
