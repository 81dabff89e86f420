"""405 and OPTIONS name every method a path supports (RFC 9110 §10.2.1, §9.3.7); CORS
preflights are still answered by the CORS layer."""

from typing import Any

import httpx

from tests.integration.http.conftest import AppFactory

USER = "/api/v1/users/01a23864-0000-7000-8000-000000000000"


async def test_a_wrong_method_names_every_method_of_the_path(
    memory_client: httpx.AsyncClient,
) -> None:
    response = await memory_client.post(USER)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, PUT, PATCH, DELETE, OPTIONS"
    assert response.json()["error"] == "method_not_allowed"
    listing = await memory_client.delete("/api/v1/users")
    assert listing.headers["allow"] == "GET, POST, OPTIONS"


async def test_options_answers_every_route_with_allow(memory_client: httpx.AsyncClient) -> None:
    response = await memory_client.options(USER)
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, PUT, PATCH, DELETE, OPTIONS"
    assert response.content == b""
    assert (await memory_client.options("/api/v1/auth/token")).headers["allow"] == "POST, OPTIONS"
    # No route, no methods: the usual 404.
    assert (await memory_client.options("/api/v1/nothing-here")).status_code == 404


async def test_allow_matches_the_document_on_every_path(memory_client: httpx.AsyncClient) -> None:
    document: dict[str, Any] = (await memory_client.get("/openapi.json")).json()
    for template, item in document["paths"].items():
        path = template.replace("{user_id}", USER.rsplit("/", 1)[1]).replace("{name}", "support")
        path = path.replace("{session_id}", "x").replace("{key_id}", "x")
        path = path.replace("{client_id}", "x")
        allow = (await memory_client.options(path)).headers["allow"]
        documented = {method.upper() for method in item}
        assert set(allow.split(", ")) == documented | {"OPTIONS"}, template


async def test_cors_preflights_are_still_answered(app_factory: AppFactory) -> None:
    origin = "https://app.example.com"
    client = await app_factory(database_url="memory://", cors_origins=origin)
    preflight = await client.options(
        USER,
        headers={"Origin": origin, "Access-Control-Request-Method": "PATCH"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "PATCH" in preflight.headers["access-control-allow-methods"]
    # A plain OPTIONS from a page: Allow, and CORS headers so the page may read it.
    plain = await client.options(USER, headers={"Origin": origin})
    assert plain.status_code == 204
    assert plain.headers["access-control-allow-origin"] == origin
    assert "PATCH" in plain.headers["allow"]
