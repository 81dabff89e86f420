"""Account administration as API.md states it."""

from typing import Any

import httpx
import pytest

from tests.integration.http.conftest import ADMIN, AppFactory
from tests.integration.http.helpers import (
    PASSWORD,
    bearer,
    login,
    register,
    registered_and_logged_in,
)

USERS = "/api/v1/users"


@pytest.fixture
async def admin_client(app_factory: AppFactory, backend: dict[str, Any]) -> httpx.AsyncClient:
    return await app_factory(**backend, **ADMIN)


@pytest.fixture
async def admin_tokens(admin_client: httpx.AsyncClient) -> dict[str, Any]:
    return await login(admin_client, "admin", ADMIN["first_admin_password"])


async def test_first_admin_is_bootstrapped(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    me = (await admin_client.get("/api/v1/auth/me", headers=bearer(admin_tokens))).json()
    assert me["email"] == "root@example.com"
    assert "admin" in me["roles"]
    assert me["is_verified"] is True


async def test_admin_creates_reads_replaces_patches_and_deletes(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    auth = bearer(admin_tokens)
    created = await admin_client.post(
        USERS,
        headers=auth,
        json={
            "email": "bob@example.com",
            "username": "bob",
            "password": PASSWORD,
            "full_name": "Bob",
        },
    )
    assert created.status_code == 201
    bob = created.json()
    assert (await admin_client.get(f"{USERS}/{bob['id']}", headers=auth)).json() == bob

    replaced = await admin_client.put(
        f"{USERS}/{bob['id']}",
        headers=auth,
        json={
            "email": "robert@example.com",
            "username": "robert",
            "full_name": None,
            "is_active": True,
            "is_verified": True,
            "roles": ["user"],
        },
    )
    assert replaced.status_code == 200
    assert replaced.json()["full_name"] is None
    assert replaced.json()["is_verified"] is True

    partial = await admin_client.patch(
        f"{USERS}/{bob['id']}", headers=auth, json={"full_name": "Rob"}
    )
    assert partial.status_code == 200
    assert partial.json()["full_name"] == "Rob"
    assert partial.json()["username"] == "robert"

    missing_field = await admin_client.put(
        f"{USERS}/{bob['id']}", headers=auth, json={"email": "x@example.com"}
    )
    assert missing_field.status_code == 422

    assert (await admin_client.delete(f"{USERS}/{bob['id']}", headers=auth)).status_code == 204
    assert (await admin_client.get(f"{USERS}/{bob['id']}", headers=auth)).status_code == 404


async def test_list_users_paginates_with_cursor_and_filters(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    auth = bearer(admin_tokens)
    for n in range(5):
        await register(admin_client, email=f"page{n}@example.com", username=f"page{n}")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "q": "page"}
        if cursor:
            params["cursor"] = cursor
        page = (await admin_client.get(USERS, headers=auth, params=params)).json()
        assert page["limit"] == 2
        seen += [u["username"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"page{n}" for n in range(5)]

    admins = (await admin_client.get(USERS, headers=auth, params={"role": "admin"})).json()
    assert [u["username"] for u in admins["items"]] == ["admin"]


async def test_tampered_or_foreign_cursor_is_refused(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    auth = bearer(admin_tokens)
    for _ in range(3):
        await register(admin_client)
    page = (await admin_client.get(USERS, headers=auth, params={"limit": 1})).json()
    cursor = page["next_cursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for params in ({"cursor": tampered}, {"cursor": "garbage"}, {"cursor": cursor, "q": "other"}):
        response = await admin_client.get(USERS, headers=auth, params={"limit": 1, **params})
        assert response.status_code == 400
        assert response.json()["error"] == "bad_request"


async def test_limit_out_of_range_is_a_validation_error(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    for limit in (0, 101):
        response = await admin_client.get(
            USERS, headers=bearer(admin_tokens), params={"limit": limit}
        )
        assert response.status_code == 422


async def test_plain_user_is_forbidden_but_may_read_itself(admin_client: httpx.AsyncClient) -> None:
    user, tokens = await registered_and_logged_in(admin_client)
    auth = bearer(tokens)
    assert (await admin_client.get(f"{USERS}/{user['id']}", headers=auth)).status_code == 200
    for method, path, body in (
        ("GET", USERS, None),
        ("POST", USERS, {"email": "x@example.com", "username": "xx1", "password": PASSWORD}),
        ("PATCH", f"{USERS}/{user['id']}", {"roles": ["admin"]}),
        ("DELETE", f"{USERS}/{user['id']}", None),
    ):
        response = await admin_client.request(method, path, headers=auth, json=body)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"] == "forbidden"


async def test_unknown_and_malformed_ids(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    auth = bearer(admin_tokens)
    unknown = await admin_client.get(f"{USERS}/01890000-0000-7000-8000-000000000000", headers=auth)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"
    malformed = await admin_client.get(f"{USERS}/not-a-uuid", headers=auth)
    assert malformed.status_code == 422


async def test_deactivation_and_deletion_act_on_the_next_request(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    auth = bearer(admin_tokens)
    user, tokens = await registered_and_logged_in(admin_client)
    assert (await admin_client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200
    await admin_client.patch(f"{USERS}/{user['id']}", headers=auth, json={"is_active": False})
    assert (await admin_client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 401
    refreshed = await admin_client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401
    relogin = await admin_client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert relogin.status_code == 401

    other, other_tokens = await registered_and_logged_in(admin_client)
    await admin_client.delete(f"{USERS}/{other['id']}", headers=auth)
    assert (
        await admin_client.get("/api/v1/auth/me", headers=bearer(other_tokens))
    ).status_code == 401


async def test_an_administrator_signs_an_account_out_everywhere(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    user, laptop = await registered_and_logged_in(admin_client)
    phone = await login(admin_client, user["username"])

    ended = await admin_client.delete(
        f"{USERS}/{user['id']}/sessions", headers=bearer(admin_tokens)
    )

    assert ended.status_code == 204
    for tokens in (laptop, phone):
        me = await admin_client.get("/api/v1/auth/me", headers=bearer(tokens))
        assert me.status_code == 401
        refreshed = await admin_client.post(
            "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 401
    again = await login(admin_client, user["username"])  # the account itself is untouched
    assert (await admin_client.get("/api/v1/auth/me", headers=bearer(again))).status_code == 200
    trail = await admin_client.get(
        "/api/v1/audit-events",
        params={"action": "session.revoked", "target": user["id"]},
        headers=bearer(admin_tokens),
    )
    reasons = [e["details"]["reason"] for e in trail.json()["items"]]
    assert reasons == ["revoked_by_admin", "revoked_by_admin"]


async def test_signing_an_account_out_needs_users_write_and_an_existing_account(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    _, tokens = await registered_and_logged_in(admin_client)
    other, _ = await registered_and_logged_in(admin_client)
    refused = await admin_client.delete(f"{USERS}/{other['id']}/sessions", headers=bearer(tokens))
    assert refused.status_code == 403
    missing = await admin_client.delete(
        f"{USERS}/01940000-0000-7000-8000-000000000404/sessions", headers=bearer(admin_tokens)
    )
    assert missing.status_code == 404
    assert (await admin_client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 200


async def test_last_admin_cannot_be_demoted_deactivated_or_deleted(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    auth = bearer(admin_tokens)
    me = (await admin_client.get("/api/v1/auth/me", headers=auth)).json()
    for method, body in (
        ("PATCH", {"roles": ["user"]}),
        ("PATCH", {"is_active": False}),
        ("DELETE", None),
    ):
        response = await admin_client.request(
            method, f"{USERS}/{me['id']}", headers=auth, json=body
        )
        assert response.status_code == 409, method
    assert (await admin_client.get("/api/v1/auth/me", headers=auth)).status_code == 200


async def test_unknown_role_is_refused(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    response = await admin_client.post(
        USERS,
        headers=bearer(admin_tokens),
        json={
            "email": "r@example.com",
            "username": "rrr",
            "password": PASSWORD,
            "roles": ["wizard"],
        },
    )
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == ["body", "roles"]


async def test_bad_query_values_are_named_as_query_errors(
    admin_client: httpx.AsyncClient, admin_tokens: dict[str, Any]
) -> None:
    auth = bearer(admin_tokens)
    role = await admin_client.get(USERS, headers=auth, params={"role": "superuser"})
    assert role.status_code == 422
    assert role.json()["details"][0]["loc"] == ["query", "role"]
    text = await admin_client.get(USERS, headers=auth, params={"q": "a\u0000b"})
    assert text.status_code == 422
    assert text.json()["details"][0]["loc"] == ["query", "q"]
