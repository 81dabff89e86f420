"""The OpenAPI document shows how to authenticate and what every operation can answer,
so the docs' Authorize button works and clients know to expect 429 and 500."""

from base64 import b64encode
from typing import Any

import httpx

from tests.integration.http.helpers import bearer, operations, registered_and_logged_in


def test_bearer_and_api_key_schemes_are_declared(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    kinds = {(s["type"], s.get("scheme"), s.get("in"), s.get("name")) for s in schemes.values()}
    assert ("http", "bearer", None, None) in kinds
    assert ("apiKey", None, "header", "X-API-Key") in kinds
    assert ("http", "basic", None, None) in kinds  # service clients, at introspection


def test_the_password_flow_points_at_the_token_endpoint(openapi: dict[str, Any]) -> None:
    flows = [s["flows"] for s in openapi["components"]["securitySchemes"].values() if "flows" in s]
    assert flows == [{"password": {"scopes": {}, "tokenUrl": "/api/v1/auth/token"}}]


async def test_the_docs_authorize_button_signs_in(memory_client: httpx.AsyncClient) -> None:
    """What Swagger UI's password flow sends with the client fields left empty: the form,
    and HTTP Basic of an empty client id and secret. The token it gets back works."""
    user, _ = await registered_and_logged_in(memory_client)
    response = await memory_client.post(
        "/api/v1/auth/token",
        content=f"grant_type=password&username={user['username']}&password="
        + user["password"].replace(" ", "+"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + b64encode(b":").decode(),
        },
    )
    assert response.status_code == 200, response.text
    token = response.json()
    me = await memory_client.get(
        "/api/v1/auth/me",
        headers={"Authorization": f"{token['token_type']} {token['access_token']}"},
    )
    assert me.status_code == 200
    assert me.json()["username"] == user["username"]


def test_protected_operations_list_either_scheme_and_public_ones_none(
    openapi: dict[str, Any],
) -> None:
    ops = operations(openapi)
    # HTTP Basic is for service clients, and only at the OAuth endpoints.
    schemes = set(openapi["components"]["securitySchemes"]) - {"HTTPBasic"}
    for protected in (("GET", "/api/v1/auth/me"), ("GET", "/api/v1/api-keys")):
        # A list of alternatives: either scheme alone authorises (OpenAPI 3.1 §4.8.10).
        alternatives = ops[protected].get("security")
        assert alternatives is not None, protected
        assert {name for requirement in alternatives for name in requirement} == schemes
        assert all(len(requirement) == 1 for requirement in alternatives)
    assert "security" not in ops[("POST", "/api/v1/auth/login")]


def test_every_operation_documents_429_and_500_in_the_envelope(
    openapi: dict[str, Any],
) -> None:
    ops = operations(openapi)
    assert ops
    for key, operation in ops.items():
        # Probes are never rate limited, so they cannot answer 429.
        statuses = ("500",) if key[1].startswith("/health") else ("429", "500")
        for status in statuses:
            response = operation["responses"].get(status)
            assert response is not None, (key, status)
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (key, status)


async def test_authentication_behaves_as_before(memory_client: httpx.AsyncClient) -> None:
    _, tokens = await registered_and_logged_in(memory_client)
    auth = bearer(tokens)
    assert (await memory_client.get("/api/v1/auth/me", headers=auth)).status_code == 200
    # Header only (RFC 6750 §2.1): a token in the query string is not read.
    query = await memory_client.get(
        "/api/v1/auth/me", params={"access_token": tokens["access_token"]}
    )
    assert query.status_code == 401
    assert query.headers["www-authenticate"] == 'Bearer realm="hexahub"'
    for header in ({"Authorization": "Basic YTpi"}, {"Authorization": "Bearer "}, {}):
        response = await memory_client.get("/api/v1/auth/me", headers=header)
        assert response.status_code == 401, header
        assert response.json()["error"] == "unauthorized"
        assert response.json()["message"] == "a bearer access token or an API key is required"
    both = await memory_client.get("/api/v1/auth/me", headers={**auth, "X-API-Key": "hx_x"})
    assert both.status_code == 401
    assert both.json()["message"] == "send either a bearer token or an API key, not both"
    # An empty key is still a key that was sent: refused, never silently ignored.
    empty = await memory_client.get("/api/v1/auth/me", headers={**auth, "X-API-Key": ""})
    assert empty.status_code == 401
    lower = await memory_client.get(
        "/api/v1/auth/me", headers={"authorization": f"bearer  {tokens['access_token']} "}
    )
    assert lower.status_code == 200
