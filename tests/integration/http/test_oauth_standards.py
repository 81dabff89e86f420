"""Stock OAuth 2.0 tooling works against HexaHub with no custom code: Authlib's client
runs the password, refresh-token and client-credentials grants and revocation; tokens
follow RFC 9068 and RFC 8725; discovery and introspection answer as the RFCs say."""

import base64
import json
import warnings
from typing import Any

import httpx
import jwt
import pytest

from tests.integration.http.conftest import ADMIN, AppFactory
from tests.integration.http.helpers import PASSWORD, bearer, login, register

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Authlib announces its own httpx module's future
    from authlib.integrations.httpx_client import AsyncOAuth2Client

TOKEN_URL = "http://testserver/api/v1/auth/token"


@pytest.fixture(params=["HS256", "RS256", "EdDSA"])
def algorithm(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def api(
    app_factory: AppFactory, backend: dict[str, Any], algorithm: str
) -> httpx.AsyncClient:
    return await app_factory(
        **backend, **ADMIN, jwt_algorithm=algorithm, public_base_url="http://testserver"
    )


def oauth_client(api: httpx.AsyncClient, **kwargs: Any) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(transport=api._transport, base_url="http://testserver", **kwargs)


async def make_client(api: httpx.AsyncClient, scopes: list[str]) -> dict[str, Any]:
    admin = bearer(await login(api, "admin", ADMIN["first_admin_password"]))
    created = await api.post(
        "/api/v1/clients", headers=admin, json={"name": "resource-server", "scopes": scopes}
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    assert body["client_secret"].startswith("hxs_")
    return body


async def test_authlib_password_refresh_and_revocation(api: httpx.AsyncClient) -> None:
    user = await register(api)
    async with oauth_client(api, client_id="mobile-app") as client:
        token = await client.fetch_token(
            TOKEN_URL, grant_type="password", username=user["username"], password=PASSWORD
        )
        assert token["token_type"] == "bearer"
        me = await client.get("/api/v1/auth/me")
        assert me.json()["id"] == user["id"]
        refreshed = await client.refresh_token(TOKEN_URL, refresh_token=token["refresh_token"])
        assert refreshed["refresh_token"] != token["refresh_token"]
        revoked = await client.revoke_token(
            "http://testserver/api/v1/auth/revoke",
            token=refreshed["refresh_token"],
            token_type_hint="refresh_token",
        )
        assert revoked.status_code == 200
    after = await api.get("/api/v1/auth/me", headers=bearer(refreshed))
    assert after.status_code == 401


async def test_authlib_client_credentials_grant(api: httpx.AsyncClient) -> None:
    registered = await make_client(api, ["users:read"])
    for method in ("client_secret_basic", "client_secret_post"):
        async with oauth_client(
            api,
            client_id=registered["client_id"],
            client_secret=registered["client_secret"],
            token_endpoint_auth_method=method,
        ) as client:
            token = await client.fetch_token(TOKEN_URL, grant_type="client_credentials")
            assert "refresh_token" not in token
            assert token["scope"] == "users:read"
            listed = await client.get("/api/v1/users")
            assert listed.status_code == 200
            assert (await client.post("/api/v1/users", json={})).status_code in (403, 422)
            assert (await client.get("/api/v1/auth/me")).status_code == 403
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == registered["client_id"]
    assert "sid" not in claims


async def test_wrong_client_secret_is_invalid_client(api: httpx.AsyncClient) -> None:
    registered = await make_client(api, [])
    basic = base64.b64encode(f"{registered['client_id']}:wrong".encode()).decode()
    response = await api.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"]


async def test_access_tokens_follow_rfc_9068(api: httpx.AsyncClient, algorithm: str) -> None:
    user = await register(api)
    tokens = await login(api, user["username"])
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["typ"] == "at+jwt"
    assert header["alg"] == algorithm
    assert header["kid"]


async def test_discovery_document_urls_all_resolve(api: httpx.AsyncClient) -> None:
    document = (await api.get("/.well-known/openid-configuration")).json()
    assert document["issuer"] == "http://testserver"
    assert "client_credentials" in document["grant_types_supported"]
    for field in ("token_endpoint", "revocation_endpoint", "introspection_endpoint", "jwks_uri"):
        path = document[field].removeprefix("http://testserver")
        method = "GET" if field == "jwks_uri" else "POST"
        response = await api.request(method, path)
        assert response.status_code != 404, (field, response.status_code)
    jwks = await api.get("/.well-known/jwks.json")
    assert "max-age" in jwks.headers["cache-control"]


async def test_jwks_verifies_tokens_with_stock_pyjwt(
    api: httpx.AsyncClient, algorithm: str
) -> None:
    user = await register(api)
    tokens = await login(api, user["username"])
    keys = (await api.get("/.well-known/jwks.json")).json()["keys"]
    if algorithm == "HS256":
        # Symmetric secrets are never published; what is, is the id_token key pair.
        assert keys
        assert all(k["kty"] in {"RSA", "OKP"} and "k" not in k for k in keys)
        kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
        assert kid not in {k["kid"] for k in keys}
        return
    kid = jwt.get_unverified_header(tokens["access_token"])["kid"]
    [jwk] = [k for k in keys if k["kid"] == kid]
    key = jwt.PyJWK.from_json(json.dumps(jwk))
    claims = jwt.decode(
        tokens["access_token"], key, algorithms=[algorithm], audience="hexahub-api",
        issuer="http://testserver",
    )  # fmt: skip
    assert claims["sub"] == user["id"]


async def test_introspection_for_a_resource_server(api: httpx.AsyncClient) -> None:
    server = await make_client(api, ["tokens:introspect"])
    user = await register(api)
    tokens = await login(api, user["username"])
    async with oauth_client(
        api, client_id=server["client_id"], client_secret=server["client_secret"]
    ) as client:
        url = "http://testserver/api/v1/auth/introspect"
        active = (await client.introspect_token(url, token=tokens["access_token"])).json()
        assert active["active"] is True
        assert active["sub"] == user["id"]
        assert active["username"] == user["username"]
        assert {"exp", "iat", "iss", "aud", "jti", "sid", "scope"} <= set(active)
        refresh = (
            await client.introspect_token(
                url, token=tokens["refresh_token"], token_type_hint="refresh_token"
            )
        ).json()
        assert refresh["active"] is True
        assert refresh["token_type"] == "refresh_token"

        await api.post("/api/v1/auth/logout", headers=bearer(tokens))
        # Revocation a JWT cannot show by itself: the token is unexpired but dead.
        for token in (tokens["access_token"], tokens["refresh_token"], "garbage"):
            assert (await client.introspect_token(url, token=token)).json() == {"active": False}


async def test_introspection_needs_the_permission(api: httpx.AsyncClient) -> None:
    user = await register(api)
    tokens = await login(api, user["username"])
    refused = await api.post(
        "/api/v1/auth/introspect", data={"token": tokens["access_token"]}, headers=bearer(tokens)
    )
    assert refused.status_code == 403
    anonymous = await api.post("/api/v1/auth/introspect", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 401
