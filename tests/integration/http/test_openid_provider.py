"""HexaHub as an OpenID Connect provider, driven by a stock relying party (Authlib's
OAuth 2.0 client) and a person's browser (`browser.Browser`: cookies and forms, no
JavaScript), on every storage backend."""

import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

from tests.integration.http.browser import BASE, Browser, forms_of
from tests.integration.http.conftest import ADMIN, AppFactory
from tests.integration.http.helpers import bearer, register

CALLBACK = "https://rp.example/callback"
OTHER_CALLBACK = "https://rp.example/other"
TOKEN_URL = f"{BASE}/api/v1/auth/token"
AUTHORIZE_URL = f"{BASE}/oauth2/authorize"


def transport_of(client: httpx.AsyncClient) -> httpx.AsyncBaseTransport:
    return client._transport  # the app behind the test client, for more clients


async def new_client(
    api: httpx.AsyncClient, admin: dict[str, str], **fields: Any
) -> dict[str, Any]:
    body = {
        "name": "relying-party",
        "redirect_uris": [CALLBACK, OTHER_CALLBACK],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        "first_party": True,
        **fields,
    }
    response = await api.post("/api/v1/clients", json=body, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def relying_party(api: httpx.AsyncClient, client: dict[str, Any]) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=client["client_id"],
        client_secret=client.get("client_secret"),
        token_endpoint_auth_method=client["token_endpoint_auth_method"],
        scope="openid email profile",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
        transport=transport_of(api),
        base_url=BASE,
    )


async def sign_in(browser: Browser, url: str, username: str, password: str) -> httpx.Response:
    page = await browser.go(url)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    (form,) = forms_of(page.text)
    assert {"username", "password", "csrf_token"} <= set(form.inputs)
    return await browser.submit(page, username=username, password=password)


def query_of(response: httpx.Response) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


async def verified_id_token(api: httpx.AsyncClient, id_token: str, audience: str) -> dict[str, Any]:
    """As a relying party checks it: the key from our JWKS, the issuer from discovery."""
    metadata = (await api.get("/.well-known/openid-configuration")).json()
    jwks = (await api.get(urlsplit(metadata["jwks_uri"]).path)).json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(id_token)["kid"]]
    assert key.algorithm_name in metadata["id_token_signing_alg_values_supported"]
    claims: dict[str, Any] = jwt.decode(
        id_token,
        key.key,
        algorithms=metadata["id_token_signing_alg_values_supported"],
        audience=audience,
        issuer=metadata["issuer"],
        options={"require": ["iss", "sub", "aud", "exp", "iat", "auth_time", "sid"]},
    )
    return claims


@pytest.fixture
async def api(app_factory: AppFactory, backend: dict[str, Any]) -> httpx.AsyncClient:
    return await app_factory(**backend, **ADMIN, public_base_url=BASE)


@pytest.fixture
async def browser(api: httpx.AsyncClient) -> Any:
    browser = Browser(transport_of(api))
    yield browser
    await browser.aclose()


async def test_a_stock_relying_party_signs_a_person_in_and_out(
    api: httpx.AsyncClient, admin: dict[str, str], browser: Browser
) -> None:
    person = await register(api)
    client = await new_client(api, admin)
    assert client["client_secret"] is None  # a public client: PKCE is its proof
    async with relying_party(api, client) as rp:
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        url, state = rp.create_authorization_url(AUTHORIZE_URL, code_verifier=verifier, nonce=nonce)

        back = await sign_in(browser, url, person["username"], person["password"])
        assert back.status_code == 303
        assert back.headers["location"].startswith(CALLBACK + "?")
        assert query_of(back)["state"] == state
        assert query_of(back)["iss"] == BASE

        token = await rp.fetch_token(
            TOKEN_URL, authorization_response=back.headers["location"], code_verifier=verifier
        )
        assert token["token_type"] == "bearer"
        assert token["refresh_token"]
        claims = await verified_id_token(api, token["id_token"], client["client_id"])
        assert claims["sub"] == person["id"]
        assert claims["nonce"] == nonce
        assert claims["email"] == person["email"]
        assert claims["email_verified"] is False

        info = await rp.get("/oauth2/userinfo")
        assert info.status_code == 200
        assert info.json()["sub"] == person["id"]
        assert info.json()["preferred_username"] == person["username"]
        assert (await rp.post("/oauth2/userinfo")).json() == info.json()

        refreshed = await rp.refresh_token(TOKEN_URL)
        assert refreshed["refresh_token"] != token["refresh_token"]

        # Signed in already: a second authorization needs no password.
        url, state = rp.create_authorization_url(AUTHORIZE_URL, code_verifier=verifier)
        again = await browser.go(url)
        assert again.status_code == 303
        assert query_of(again)["state"] == state

        logout = await browser.go(
            "/oauth2/logout?"
            + urlencode(
                {
                    "id_token_hint": token["id_token"],
                    "post_logout_redirect_uri": OTHER_CALLBACK,
                    "state": "bye",
                }
            )
        )
        assert logout.status_code == 303
        assert logout.headers["location"] == f"{OTHER_CALLBACK}?state=bye"
        assert (await rp.get("/oauth2/userinfo")).status_code == 401
        # The browser's sign-in session ended too: the password is asked again.
        url, _ = rp.create_authorization_url(AUTHORIZE_URL, code_verifier=verifier)
        assert (await browser.go(url)).status_code == 200


async def test_a_third_party_client_asks_consent_once_and_it_can_be_withdrawn(
    api: httpx.AsyncClient, admin: dict[str, str], browser: Browser
) -> None:
    person = await register(api)
    client = await new_client(
        api, admin, first_party=False, token_endpoint_auth_method="client_secret_basic"
    )
    async with relying_party(api, client) as rp:
        verifier = secrets.token_urlsafe(48)
        url, state = rp.create_authorization_url(AUTHORIZE_URL, code_verifier=verifier)
        consent = await sign_in(browser, url, person["username"], person["password"])
        assert consent.status_code == 200
        assert "relying-party" in consent.text
        (form,) = forms_of(consent.text)
        assert ("decision", "allow") in form.buttons
        assert ("decision", "deny") in form.buttons

        denied = await browser.submit(consent, decision="deny")
        assert denied.status_code == 303
        assert query_of(denied)["error"] == "access_denied"
        assert query_of(denied)["state"] == state

        consent = await browser.go(url)
        allowed = await browser.submit(consent, decision="allow")
        assert allowed.status_code == 303
        assert "code" in query_of(allowed)
        token = await rp.fetch_token(
            TOKEN_URL, authorization_response=allowed.headers["location"], code_verifier=verifier
        )
        assert token["id_token"]

        url, _ = rp.create_authorization_url(AUTHORIZE_URL, code_verifier=verifier)
        assert (await browser.go(url)).status_code == 303  # asked once

        mine = await api.get("/api/v1/auth/consents", headers=bearer(token))
        assert [c["client_id"] for c in mine.json()["items"]] == [client["client_id"]]
        withdrawn = await api.delete(
            f"/api/v1/auth/consents/{client['client_id']}", headers=bearer(token)
        )
        assert withdrawn.status_code == 204
        assert (await browser.go(url)).status_code == 200  # asked again


async def test_a_code_works_once_and_its_replay_revokes_what_it_issued(
    api: httpx.AsyncClient, admin: dict[str, str], browser: Browser
) -> None:
    person = await register(api)
    client = await new_client(api, admin)
    async with relying_party(api, client) as rp:
        verifier = secrets.token_urlsafe(48)
        url, _ = rp.create_authorization_url(AUTHORIZE_URL, code_verifier=verifier)
        back = await sign_in(browser, url, person["username"], person["password"])
        code = query_of(back)["code"]
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
            "client_id": client["client_id"],
        }
        first = await api.post("/api/v1/auth/token", data=form)
        assert first.status_code == 200, first.text
        second = await api.post("/api/v1/auth/token", data=form)
        assert second.status_code == 400
        assert second.json()["error"] == "invalid_grant"
        assert (await api.get("/oauth2/userinfo", headers=bearer(first.json()))).status_code == 401
        refresh = await api.post(
            "/api/v1/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}
        )
        assert refresh.status_code == 401


async def test_the_discovery_documents_are_complete_and_true(api: httpx.AsyncClient) -> None:
    openid = (await api.get("/.well-known/openid-configuration")).json()
    oauth = (await api.get("/.well-known/oauth-authorization-server")).json()
    # OpenID Connect Discovery 1.0 §3 REQUIRED, and RFC 8414 §2 REQUIRED.
    for field in (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ):
        assert openid[field], field
    assert oauth["issuer"] == openid["issuer"] == BASE
    assert openid["response_types_supported"] == ["code"]
    assert openid["code_challenge_methods_supported"] == ["S256"]
    assert set(openid["id_token_signing_alg_values_supported"]) <= {"RS256", "EdDSA"}
    assert "openid" in openid["scopes_supported"]
    # Every endpoint advertised is served here with the method it is used with.
    answers = {
        "authorization_endpoint": ("GET", {400}),  # no parameters: an error page
        "token_endpoint": ("POST", {400}),
        "userinfo_endpoint": ("GET", {401}),
        "end_session_endpoint": ("GET", {200}),
        "revocation_endpoint": ("POST", {400, 415, 422}),
        "introspection_endpoint": ("POST", {400, 401}),
        "jwks_uri": ("GET", {200}),
    }
    for name, (method, statuses) in answers.items():
        url = openid[name]
        assert url.startswith(BASE + "/"), name
        data = {"grant_type": "authorization_code"} if name == "token_endpoint" else None
        response = await api.request(method, urlsplit(url).path, data=data)
        assert response.status_code in statuses, (name, response.status_code, response.text)
    jwks = (await api.get("/.well-known/jwks.json")).json()
    assert jwks["keys"]
    assert all(k["kty"] in {"RSA", "OKP"} for k in jwks["keys"])
