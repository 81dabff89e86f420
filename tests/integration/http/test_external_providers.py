"""Sign-in through an external OpenID provider, against a real one running in the test
process: a second HexaHub instance (`https://upstream.test`) is the upstream provider,
reached through its own ASGI transport by the service and by the browser."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from dependency_injector import providers

from adapters.memory.password_hasher import FakePasswordHasher
from adapters.oidc.identity_providers import HttpxIdentityProviders, ProviderConfig
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.integration.http.browser import BASE, Browser, forms_of
from tests.integration.http.conftest import ADMIN, STARTUP_TIMEOUT, AppFactory, make_settings
from tests.integration.http.helpers import PASSWORD, bearer, login, new_identity, register
from tests.integration.http.test_openid_provider import (
    CALLBACK,
    new_client,
    query_of,
    transport_of,
)
from tests.integration.http.test_openid_provider_bad_input import (
    authorize_url,
    exchange,
)

UPSTREAM = "https://upstream.test"


class Down(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)


async def admin_headers(api: httpx.AsyncClient) -> dict[str, str]:
    login = await api.post(
        "/api/v1/auth/login", json={"username": "admin", "password": ADMIN["first_admin_password"]}
    )
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture
async def world(app_factory: AppFactory, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    upstream = await app_factory(
        database_url="memory://", _fake_hasher=True, **ADMIN, public_base_url=UPSTREAM
    )
    upstream_admin = await admin_headers(upstream)
    registration = await new_client(
        upstream,
        upstream_admin,
        name="hexahub-downstream",
        redirect_uris=[f"{BASE}/oauth2/external/upstream/callback"],
        token_endpoint_auth_method="client_secret_basic",
    )
    provider = {
        "name": "upstream",
        "issuer": UPSTREAM,
        "client_id": registration["client_id"],
        "client_secret": registration["client_secret"],
        "display_name": "Upstream Corp",
    }
    settings = make_settings(
        tmp_path / "down",
        database_url="memory://",
        **ADMIN,
        public_base_url=BASE,
        oidc_providers=json.dumps([provider]),
    )
    container = Container(settings=providers.Object(settings))
    container.password_hasher.override(providers.Singleton(FakePasswordHasher))
    configs = [ProviderConfig(**{**provider})]
    container.identity_providers.override(
        providers.Singleton(HttpxIdentityProviders, configs, transport=transport_of(upstream))
    )
    async with LifespanManager(
        create_app(settings, container), startup_timeout=STARTUP_TIMEOUT
    ) as manager:
        down_transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=down_transport, base_url=BASE) as api:
            browser = Browser(down_transport, {UPSTREAM: transport_of(upstream)})
            client = await new_client(api, await admin_headers(api))
            yield {
                "api": api,
                "upstream": upstream,
                "upstream_admin": upstream_admin,
                "browser": browser,
                "client": client,
                "container": container,
            }
            await browser.aclose()


async def through_upstream(world: dict[str, Any], person: dict[str, Any]) -> httpx.Response:
    """The person picks the upstream on our sign-in page and signs in there."""
    browser: Browser = world["browser"]
    page = await browser.go(authorize_url(world["client"]["client_id"]))
    assert page.status_code == 200
    assert "Sign in with Upstream Corp" in page.text
    start = page.text.split('href="')[1].split('"')[0].replace("&amp;", "&")
    upstream_page = await browser.go(start)
    assert str(upstream_page.url).startswith(UPSTREAM + "/oauth2/authorize?")
    return await browser.submit(
        upstream_page, username=person["username"], password=person["password"]
    )


async def test_a_first_sign_in_creates_the_account_with_its_provider(world: dict[str, Any]) -> None:
    person = await register(world["upstream"])
    back = await through_upstream(world, person)
    assert back.status_code == 303, back.text
    assert back.headers["location"].startswith(CALLBACK)
    code = query_of(back)["code"]
    tokens = await world["api"].post(
        "/api/v1/auth/token", data=exchange(world["client"]["client_id"], code)
    )
    assert tokens.status_code == 200, tokens.text
    me = (await world["api"].get("/api/v1/auth/me", headers=bearer(tokens.json()))).json()
    assert me["email"] == person["email"]
    assert me["oauth_provider"] == "upstream"
    assert me["is_verified"] is False  # the upstream did not say it was
    links = await world["api"].get(
        "/api/v1/auth/external-identities", headers=bearer(tokens.json())
    )
    assert [(i["provider"], i["subject"]) for i in links.json()["items"]] == [
        ("upstream", person["id"])
    ]
    # The last link of a password-less account is kept.
    unlink = await world["api"].delete(
        f"/api/v1/auth/external-identities/upstream/{person['id']}", headers=bearer(tokens.json())
    )
    assert unlink.status_code == 409

    # Next time the same upstream account signs in as the same local account.
    world["browser"].http.cookies.clear()
    again = await through_upstream(world, person)
    code = query_of(again)["code"]
    tokens = await world["api"].post(
        "/api/v1/auth/token", data=exchange(world["client"]["client_id"], code)
    )
    assert (await world["api"].get("/api/v1/auth/me", headers=bearer(tokens.json()))).json()[
        "id"
    ] == me["id"]


async def test_an_email_collision_never_enters_the_existing_account_without_proof(
    world: dict[str, Any],
) -> None:
    identity = new_identity("twin")
    local = await register(world["api"], **identity)
    upstream_person = await register(world["upstream"], **identity)
    # Unverified upstream address: no linking offered at all.
    refused = await through_upstream(world, upstream_person)
    assert refused.status_code == 409
    assert "location" not in refused.headers
    assert not forms_of(refused.text)

    verified = await world["upstream"].patch(
        f"/api/v1/users/{upstream_person['id']}",
        json={"is_verified": True},
        headers=world["upstream_admin"],
    )
    assert verified.status_code == 200, verified.text
    world["browser"].http.cookies.clear()
    ask = await through_upstream(world, upstream_person)
    assert ask.status_code == 200
    assert "Enter its password" in ask.text
    wrong = await world["browser"].submit(ask, password="not the password 1")
    assert wrong.status_code == 401
    assert "location" not in wrong.headers

    linked = await world["browser"].submit(ask, password=PASSWORD)
    assert linked.status_code == 303, linked.text
    code = query_of(linked)["code"]
    tokens = await world["api"].post(
        "/api/v1/auth/token", data=exchange(world["client"]["client_id"], code)
    )
    me = (await world["api"].get("/api/v1/auth/me", headers=bearer(tokens.json()))).json()
    assert me["id"] == local["id"]
    assert me["oauth_provider"] is None  # an existing account keeps what it was
    audit = await world["api"].get(
        "/api/v1/audit-events?action=external_identity.linked",
        headers=await admin_headers(world["api"]),
    )
    assert audit.status_code == 200
    assert [e["details"]["how"] for e in audit.json()["items"]] == ["password"]


async def test_a_forged_callback_is_refused_and_a_down_upstream_gets_a_page(
    world: dict[str, Any],
) -> None:
    browser: Browser = world["browser"]
    forged = await browser.go("/oauth2/external/upstream/callback?code=abc&state=forged")
    assert forged.status_code == 400
    assert "location" not in forged.headers

    world["container"].identity_providers.override(
        providers.Singleton(
            HttpxIdentityProviders,
            [
                ProviderConfig(
                    name="upstream",
                    issuer=UPSTREAM,
                    client_id="x",
                    client_secret="y",
                    display_name="Upstream Corp",
                )
            ],
            transport=Down(),
        )
    )
    page = await browser.go(
        "/oauth2/external/upstream/start?"
        + authorize_url(world["client"]["client_id"]).split("?")[1]
    )
    assert page.status_code == 503
    assert "cannot be reached" in page.text


async def test_an_administrator_can_link_what_the_provider_cannot_vouch_for(
    world: dict[str, Any],
) -> None:
    identity = new_identity("linked")
    local = await register(world["api"], **identity)
    upstream_person = await register(world["upstream"], **identity)  # email unverified there
    admin = await admin_headers(world["api"])
    path = f"/api/v1/users/{local['id']}/external-identities"
    unknown = await world["api"].post(
        path, json={"provider": "elsewhere", "subject": "x"}, headers=admin
    )
    assert unknown.status_code == 404
    person = await login(world["api"], local["username"], local["password"])
    not_admin = await world["api"].post(
        path,
        json={"provider": "upstream", "subject": upstream_person["id"]},
        headers=bearer(person),
    )
    assert not_admin.status_code == 403
    linked = await world["api"].post(
        path, json={"provider": "upstream", "subject": upstream_person["id"]}, headers=admin
    )
    assert linked.status_code == 201, linked.text
    again = await world["api"].post(
        path, json={"provider": "upstream", "subject": upstream_person["id"]}, headers=admin
    )
    assert again.status_code == 409

    back = await through_upstream(world, upstream_person)
    assert back.status_code == 303, back.text
    tokens = await world["api"].post(
        "/api/v1/auth/token", data=exchange(world["client"]["client_id"], query_of(back)["code"])
    )
    me = (await world["api"].get("/api/v1/auth/me", headers=bearer(tokens.json()))).json()
    assert me["id"] == local["id"]
