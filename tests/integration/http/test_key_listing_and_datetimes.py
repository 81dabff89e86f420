"""API key listing shows owner and revocation; timestamps without a zone are refused.

A naive datetime cannot be compared with the service's aware ones, so it is a client
error (422) at the edge, not a 500 deep in a use case or a repository.
"""

import httpx
import pytest

from tests.integration.http.helpers import PASSWORD, bearer, registered_and_logged_in

API_KEY_FIELDS = {"id", "prefix", "name", "scopes", "created_at", "expires_at", "last_used_at"}


async def test_listed_keys_show_their_owner_and_when_they_were_revoked(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    owner, tokens = await registered_and_logged_in(api)
    auth = bearer(tokens)
    kept = (
        await api.post(
            "/api/v1/api-keys", headers=auth, json={"name": "kept", "current_password": PASSWORD}
        )
    ).json()
    gone = (
        await api.post(
            "/api/v1/api-keys", headers=auth, json={"name": "gone", "current_password": PASSWORD}
        )
    ).json()
    assert (await api.delete(f"/api/v1/api-keys/{gone['id']}", headers=auth)).status_code == 204

    listed = {k["id"]: k for k in (await api.get("/api/v1/api-keys", headers=auth)).json()["items"]}
    assert set(listed) == {kept["id"], gone["id"]}
    for key in listed.values():
        assert set(key) == API_KEY_FIELDS | {"revoked_at", "owner_id"}
        assert key["owner_id"] == owner["id"]
    assert listed[kept["id"]]["revoked_at"] is None
    assert listed[gone["id"]]["revoked_at"] is not None
    everyone = (await api.get("/api/v1/api-keys", params={"all": "true"}, headers=admin)).json()
    assert {k["owner_id"] for k in everyone["items"]} >= {owner["id"]}


@pytest.mark.parametrize("expires_at", ["2999-01-01T00:00:00", "2999-01-01"])
async def test_a_key_expiry_without_a_timezone_is_a_validation_error(
    memory_client: httpx.AsyncClient, expires_at: str
) -> None:
    _, tokens = await registered_and_logged_in(memory_client)
    response = await memory_client.post(
        "/api/v1/api-keys", headers=bearer(tokens), json={"name": "n", "expires_at": expires_at}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["details"][0]["loc"] == ["body", "expires_at"]


async def test_a_key_expiry_with_a_timezone_is_accepted(memory_client: httpx.AsyncClient) -> None:
    _, tokens = await registered_and_logged_in(memory_client)
    response = await memory_client.post(
        "/api/v1/api-keys",
        headers=bearer(tokens),
        json={
            "name": "n",
            "expires_at": "2999-01-01T00:00:00+02:00",
            "current_password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("bound", ["since", "until"])
async def test_audit_bounds_without_a_timezone_are_validation_errors(
    api: httpx.AsyncClient, admin: dict[str, str], bound: str
) -> None:
    response = await api.get(
        "/api/v1/audit-events", headers=admin, params={bound: "2024-01-01T00:00:00"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["details"][0]["loc"] == ["query", bound]
    aware = await api.get(
        "/api/v1/audit-events", headers=admin, params={bound: "2024-01-01T00:00:00Z"}
    )
    assert aware.status_code == 200, aware.text
