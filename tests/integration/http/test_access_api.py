"""Roles, API keys and the audit trail over HTTP, on every backend."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.http.conftest import ADMIN
from tests.integration.http.helpers import (
    PASSWORD,
    bearer,
    register,
    registered_and_logged_in,
)


async def test_builtin_roles_are_listed_and_fixed(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    roles = {r["name"]: r for r in (await api.get("/api/v1/roles", headers=admin)).json()["items"]}
    assert {"admin", "user", "auditor"} <= set(roles)
    assert roles["auditor"] == {
        "name": "auditor",
        "permissions": ["audit:read", "releases:read", "users:read"],
        "builtin": True,
    }
    assert "roles:manage" in roles["admin"]["permissions"]
    for method, body in (("PATCH", {"name": "root"}), ("DELETE", None)):
        response = await api.request(method, "/api/v1/roles/admin", headers=admin, json=body)
        assert response.status_code == 409, method


async def test_custom_role_lifecycle_and_its_effect_on_the_next_request(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = await api.post(
        "/api/v1/roles", headers=admin, json={"name": "support", "permissions": ["users:read"]}
    )
    assert created.status_code == 201
    assert created.json() == {"name": "support", "permissions": ["users:read"], "builtin": False}
    taken = await api.post("/api/v1/roles", headers=admin, json={"name": "support"})
    assert taken.status_code == 409

    user, tokens = await registered_and_logged_in(api)
    assert (await api.get("/api/v1/users", headers=bearer(tokens))).status_code == 403
    assigned = await api.put(
        f"/api/v1/users/{user['id']}/roles", headers=admin, json={"roles": ["user", "support"]}
    )
    assert assigned.status_code == 200
    assert assigned.json()["roles"] == ["support", "user"]
    # Same token, next request: the new role already counts.
    assert (await api.get("/api/v1/users", headers=bearer(tokens))).status_code == 200

    renamed = await api.patch(
        "/api/v1/roles/support", headers=admin, json={"name": "helpdesk", "permissions": []}
    )
    assert renamed.status_code == 200
    me = (await api.get("/api/v1/auth/me", headers=bearer(tokens))).json()
    assert me["roles"] == ["helpdesk", "user"]
    assert (await api.get("/api/v1/users", headers=bearer(tokens))).status_code == 403

    assert (await api.delete("/api/v1/roles/helpdesk", headers=admin)).status_code == 204
    assert (await api.get("/api/v1/roles/helpdesk", headers=admin)).status_code == 404
    me = (await api.get("/api/v1/auth/me", headers=bearer(tokens))).json()
    assert me["roles"] == ["user"]


async def test_nobody_grants_what_they_lack(api: httpx.AsyncClient, admin: dict[str, str]) -> None:
    await api.post(
        "/api/v1/roles",
        headers=admin,
        json={"name": "rolesmith", "permissions": ["roles:manage", "users:read", "users:write"]},
    )
    smith, tokens = await registered_and_logged_in(api)
    await api.put(
        f"/api/v1/users/{smith['id']}/roles", headers=admin, json={"roles": ["rolesmith"]}
    )
    auth = bearer(tokens)
    escalations = [
        ("POST", "/api/v1/roles", {"name": "snoop", "permissions": ["audit:read"]}),
        ("PUT", f"/api/v1/users/{smith['id']}/roles", {"roles": ["admin"]}),
        ("PATCH", f"/api/v1/users/{smith['id']}", {"roles": ["auditor"]}),
        ("PATCH", "/api/v1/roles/rolesmith", {"permissions": ["audit:read", "roles:manage"]}),
        ("POST", "/api/v1/api-keys", {"name": "k", "scopes": ["audit:read"]}),
    ]
    for method, path, body in escalations:
        response = await api.request(method, path, headers=auth, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "forbidden"
    me = (await api.get("/api/v1/auth/me", headers=auth)).json()
    assert me["roles"] == ["rolesmith"]


async def test_unknown_role_and_permission_are_validation_errors(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = await register(api)
    unknown_role = await api.put(
        f"/api/v1/users/{user['id']}/roles", headers=admin, json={"roles": ["wizard"]}
    )
    assert unknown_role.status_code == 422
    unknown_permission = await api.post(
        "/api/v1/roles", headers=admin, json={"name": "x1", "permissions": ["users:obliterate"]}
    )
    assert unknown_permission.status_code == 422


async def test_api_key_lifecycle(api: httpx.AsyncClient, admin: dict[str, str]) -> None:
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    created = await api.post(
        "/api/v1/api-keys",
        headers=admin,
        json={
            "name": "reporting",
            "scopes": ["users:read"],
            "expires_at": expires,
            "current_password": ADMIN["first_admin_password"],
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "key", "prefix", "name", "scopes", "created_at", "expires_at"}
    assert body["key"].startswith(f"hx_{body['prefix']}_")
    key = {"X-API-Key": body["key"]}

    listed = (await api.get("/api/v1/api-keys", headers=admin)).json()["items"]
    assert [k["id"] for k in listed] == [body["id"]]
    assert "key" not in listed[0]
    assert body["key"] not in (await api.get("/api/v1/api-keys", headers=admin)).text

    assert (await api.get("/api/v1/users", headers=key)).status_code == 200
    # Scoped: users:read only, although its owner may do everything.
    create = await api.post(
        "/api/v1/users",
        headers=key,
        json={"email": "k@example.com", "username": "kkk", "password": "velvet canyon 8 drum"},
    )
    assert create.status_code == 403
    used = (await api.get("/api/v1/api-keys", headers=admin)).json()["items"][0]
    assert used["last_used_at"] is not None

    assert (await api.delete(f"/api/v1/api-keys/{body['id']}", headers=admin)).status_code == 204
    revoked = await api.get("/api/v1/users", headers=key)
    assert revoked.status_code == 401
    assert revoked.json()["error"] == "unauthorized"


@pytest.mark.parametrize(
    "value",
    ["hx_nope", "hx_0123456789ab_" + "A" * 43, "not-a-key", "hx_" + "g" * 12 + "_" + "A" * 43],
)
async def test_malformed_or_unknown_keys_are_401(api: httpx.AsyncClient, value: str) -> None:
    response = await api.get("/api/v1/auth/me", headers={"X-API-Key": value})
    assert response.status_code == 401
    assert response.json()["request_id"]


async def test_a_demoted_owners_keys_lose_what_the_owner_lost(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await api.post(
        "/api/v1/roles", headers=admin, json={"name": "reader", "permissions": ["users:read"]}
    )
    owner, tokens = await registered_and_logged_in(api)
    await api.put(f"/api/v1/users/{owner['id']}/roles", headers=admin, json={"roles": ["reader"]})
    key = (
        await api.post(
            "/api/v1/api-keys",
            headers=bearer(tokens),
            json={"name": "r", "scopes": ["users:read"], "current_password": PASSWORD},
        )
    ).json()["key"]
    assert (await api.get("/api/v1/users", headers={"X-API-Key": key})).status_code == 200
    await api.put(f"/api/v1/users/{owner['id']}/roles", headers=admin, json={"roles": ["user"]})
    assert (await api.get("/api/v1/users", headers={"X-API-Key": key})).status_code == 403
    await api.patch(f"/api/v1/users/{owner['id']}", headers=admin, json={"is_active": False})
    assert (await api.get("/api/v1/auth/me", headers={"X-API-Key": key})).status_code == 401


async def test_keys_cannot_do_what_needs_a_person(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = (
        await api.post(
            "/api/v1/api-keys",
            headers=admin,
            json={"name": "x", "scopes": [], "current_password": ADMIN["first_admin_password"]},
        )
    ).json()["key"]
    auth = {"X-API-Key": key}
    assert (await api.get("/api/v1/auth/me", headers=auth)).status_code == 200
    for method, path, body in (
        ("POST", "/api/v1/api-keys", {"name": "child", "scopes": [], "current_password": "x"}),
        ("POST", "/api/v1/auth/me/password", {"current_password": "a", "new_password": "b" * 12}),
        ("GET", "/api/v1/auth/sessions", None),
        ("POST", "/api/v1/auth/logout", None),
    ):
        response = await api.request(method, path, headers=auth, json=body)
        assert response.status_code == 403, (method, path, response.text)


async def test_administrators_list_and_revoke_anyones_keys(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    owner, tokens = await registered_and_logged_in(api)
    key = (
        await api.post(
            "/api/v1/api-keys",
            headers=bearer(tokens),
            json={"name": "mine", "current_password": PASSWORD},
        )
    ).json()
    everyone = (await api.get("/api/v1/api-keys", params={"all": "true"}, headers=admin)).json()
    assert key["id"] in [k["id"] for k in everyone["items"]]
    theirs = (
        await api.get("/api/v1/api-keys", params={"owner_id": owner["id"]}, headers=admin)
    ).json()
    assert [k["id"] for k in theirs["items"]] == [key["id"]]
    _, stranger = await registered_and_logged_in(api)
    assert (
        await api.get("/api/v1/api-keys", params={"all": "true"}, headers=bearer(stranger))
    ).status_code == 403
    foreign = await api.delete(f"/api/v1/api-keys/{key['id']}", headers=bearer(stranger))
    assert foreign.status_code == 404
    assert (await api.delete(f"/api/v1/api-keys/{key['id']}", headers=admin)).status_code == 204


async def test_audit_trail_records_and_pages(api: httpx.AsyncClient, admin: dict[str, str]) -> None:
    user, tokens = await registered_and_logged_in(api)
    await api.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": "wrong password 9"}
    )
    assert (await api.get("/api/v1/audit-events", headers=bearer(tokens))).status_code == 403

    page = (
        await api.get("/api/v1/audit-events", headers=admin, params={"target": user["id"]})
    ).json()
    actions = [(e["action"], e["outcome"]) for e in page["items"]]
    assert ("auth.login", "failure") in actions
    assert ("auth.login", "success") in actions
    assert ("user.registered", "success") in actions
    event = page["items"][0]
    assert set(event) == {
        "id", "action", "actor_id", "target_id", "outcome", "ip", "user_agent",
        "request_id", "occurred_at", "details",
    }  # fmt: skip
    assert event["request_id"]
    assert event["ip"]

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "target": user["id"]}
        if cursor:
            params["cursor"] = cursor
        chunk = (await api.get("/api/v1/audit-events", headers=admin, params=params)).json()
        seen += [e["id"] for e in chunk["items"]]
        cursor = chunk["next_cursor"]
        if not cursor:
            break
    assert seen == [e["id"] for e in page["items"]]
    assert seen == sorted(seen, reverse=True)  # newest first

    auditor, auditor_tokens = await registered_and_logged_in(api)
    await api.put(
        f"/api/v1/users/{auditor['id']}/roles", headers=admin, json={"roles": ["auditor"]}
    )
    assert (
        await api.get("/api/v1/audit-events", headers=bearer(auditor_tokens))
    ).status_code == 200
    assert (
        await api.delete(f"/api/v1/users/{user['id']}", headers=bearer(auditor_tokens))
    ).status_code == 403


async def test_audit_has_no_write_endpoints(api: httpx.AsyncClient, admin: dict[str, str]) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await api.request(method, "/api/v1/audit-events", headers=admin)
        assert response.status_code == 405, method
