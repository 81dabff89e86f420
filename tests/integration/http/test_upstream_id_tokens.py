"""The upstream side of federation on its own: `HttpxIdentityProviders` against a real
provider (a HexaHub instance in the test process) refuses a replayed id_token (another
nonce), a used code and a forged id_token, and says "unavailable" for a provider that
is down or answers nonsense."""

import secrets
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from adapters.oidc.identity_providers import HttpxIdentityProviders, ProviderConfig
from application.errors import UpstreamRejectedError, UpstreamUnavailableError
from tests.integration.http.browser import Browser
from tests.integration.http.conftest import ADMIN, AppFactory
from tests.integration.http.helpers import register
from tests.integration.http.test_external_providers import UPSTREAM, Down, admin_headers
from tests.integration.http.test_openid_provider import new_client, query_of, transport_of
from tests.integration.http.test_openid_provider_bad_input import challenge

CALLBACK = "https://downstream.example/callback"


@pytest.fixture
async def upstream(app_factory: AppFactory) -> Any:
    api = await app_factory(
        database_url="memory://", _fake_hasher=True, **ADMIN, public_base_url=UPSTREAM
    )
    client = await new_client(
        api,
        await admin_headers(api),
        redirect_uris=[CALLBACK],
        token_endpoint_auth_method="client_secret_basic",
    )
    config = ProviderConfig(
        name="up",
        issuer=UPSTREAM,
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        display_name="Up",
    )
    return api, config


async def a_code(api: httpx.AsyncClient, providers: HttpxIdentityProviders, nonce: str) -> str:
    person = await register(api)
    url = await providers.authorization_url(
        "up", redirect_uri=CALLBACK, state="st", nonce=nonce, code_challenge=challenge("v" * 43)
    )
    browser = Browser(transport_of(api), {UPSTREAM: transport_of(api)})
    page = await browser.go(url)
    back = await browser.submit(page, username=person["username"], password=person["password"])
    await browser.aclose()
    assert back.status_code == 303, back.text
    return query_of(back)["code"]


async def test_a_good_answer_verifies_and_a_replayed_or_reused_one_does_not(upstream: Any) -> None:
    api, config = upstream
    providers = HttpxIdentityProviders([config], transport=transport_of(api))
    code = await a_code(api, providers, "nonce-1")
    with pytest.raises(UpstreamRejectedError):  # an id_token minted for another sign-in
        await providers.exchange(
            "up", code=code, redirect_uri=CALLBACK, code_verifier="v" * 43, nonce="nonce-2"
        )
    code = await a_code(api, providers, "nonce-3")
    identity = await providers.exchange(
        "up", code=code, redirect_uri=CALLBACK, code_verifier="v" * 43, nonce="nonce-3"
    )
    assert identity.provider == "up"
    assert identity.email is not None
    with pytest.raises(UpstreamRejectedError):  # the code was used
        await providers.exchange(
            "up", code=code, redirect_uri=CALLBACK, code_verifier="v" * 43, nonce="nonce-3"
        )


async def test_a_forged_id_token_is_refused(upstream: Any) -> None:
    api, config = upstream
    real = transport_of(api)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = (await api.get("/.well-known/jwks.json")).json()["keys"][0]["kid"]

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/auth/token":
            forged = jwt.encode(
                {
                    "iss": UPSTREAM,
                    "sub": "victim",
                    "aud": config.client_id,
                    "exp": 2**31,
                    "iat": 1,
                    "nonce": "n",
                    "email": "admin@example.com",
                    "email_verified": True,
                },
                forger,
                algorithm="RS256",
                headers={"kid": kid},  # our key's name, another key's signature
            )
            return httpx.Response(200, json={"id_token": forged, "access_token": "x"})
        return await real.handle_async_request(request)

    providers = HttpxIdentityProviders([config], transport=httpx.MockTransport(handler))
    with pytest.raises(UpstreamRejectedError):
        await providers.exchange(
            "up", code="c", redirect_uri=CALLBACK, code_verifier="v" * 43, nonce="n"
        )


@pytest.mark.parametrize(
    "transport",
    [
        Down(),
        httpx.MockTransport(lambda request: httpx.Response(502, text="bad gateway")),
        httpx.MockTransport(lambda request: httpx.Response(200, text="<html>")),
    ],
)
async def test_a_provider_down_or_talking_nonsense_is_unavailable(
    transport: httpx.AsyncBaseTransport,
) -> None:
    config = ProviderConfig(
        name="up",
        issuer=UPSTREAM,
        client_id="c",
        client_secret=secrets.token_hex(8),
        display_name="Up",
    )
    providers = HttpxIdentityProviders([config], transport=transport)
    with pytest.raises(UpstreamUnavailableError):
        await providers.authorization_url(
            "up", redirect_uri=CALLBACK, state="s", nonce="n", code_challenge="c" * 43
        )
