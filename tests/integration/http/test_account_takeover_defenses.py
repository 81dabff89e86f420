"""Paths an attacker with a leaked key, a stolen token or a weaker role would try."""

import asyncio
from typing import Any

import httpx

from tests.integration.http.conftest import ADMIN, AppFactory
from tests.integration.http.helpers import (
    PASSWORD,
    bearer,
    login,
    register,
    registered_and_logged_in,
)
from tests.integration.http.test_mail_flows import mailed_token, smtp_settings
from tests.mail_catcher import MailCatcher

ADMIN_PASSWORD = {"current_password": ADMIN["first_admin_password"]}


async def audit(
    api: httpx.AsyncClient, admin: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/audit-events", headers=admin, params={"limit": 100, **params})
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_leaked_key_cannot_end_sessions_rewrite_its_owner_or_kill_siblings(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    me = (await api.get("/api/v1/auth/me", headers=admin)).json()
    make = lambda name: api.post(  # noqa: E731
        "/api/v1/api-keys",
        headers=admin,
        json={"name": name, "scopes": ["users:write"], **ADMIN_PASSWORD},
    )
    leaked, sibling = (await make("leaked")).json(), (await make("sibling")).json()
    key = {"X-API-Key": leaked["key"]}
    attempts = [
        ("POST", "/api/v1/auth/logout-all", None),
        ("POST", "/api/v1/auth/verify-email/request", None),
        ("PATCH", f"/api/v1/users/{me['id']}", {"email": "attacker@example.com"}),
        ("PUT", f"/api/v1/users/{me['id']}/roles", {"roles": ["admin", "user"]}),
        ("DELETE", f"/api/v1/api-keys/{sibling['id']}", None),
    ]
    for method, path, body in attempts:
        response = await api.request(method, path, headers=key, json=body)
        assert response.status_code == 403, (method, path, response.text)
    assert (await api.get("/api/v1/auth/me", headers=admin)).json()["email"] == "root@example.com"
    assert (await api.delete(f"/api/v1/api-keys/{leaked['id']}", headers=key)).status_code == 204


async def test_a_weaker_manager_cannot_touch_an_administrators_account_or_keys(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await api.post(
        "/api/v1/roles",
        headers=admin,
        json={"name": "support", "permissions": ["users:read", "users:write", "api_keys:manage"]},
    )
    agent, tokens = await registered_and_logged_in(api)
    await api.put(f"/api/v1/users/{agent['id']}/roles", headers=admin, json={"roles": ["support"]})
    root = (await api.get("/api/v1/auth/me", headers=admin)).json()
    admin_key = (
        await api.post("/api/v1/api-keys", headers=admin, json={"name": "ops", **ADMIN_PASSWORD})
    ).json()
    auth = bearer(tokens)
    for method, path, body in (
        ("PATCH", f"/api/v1/users/{root['id']}", {"email": "agent@example.com"}),
        ("DELETE", f"/api/v1/users/{root['id']}", None),
        ("DELETE", f"/api/v1/api-keys/{admin_key['id']}", None),
    ):
        response = await api.request(method, path, headers=auth, json=body)
        assert response.status_code == 403, (method, path, response.text)
    plain = await register(api)
    patched = await api.patch(f"/api/v1/users/{plain['id']}", headers=auth, json={"full_name": "X"})
    assert patched.status_code == 200  # its own rank and below stays manageable


async def test_guessing_the_current_password_locks_like_logins(
    app_factory: AppFactory, backend: dict[str, Any]
) -> None:
    api = await app_factory(**backend, **ADMIN, lockout_threshold=3)
    user, tokens = await registered_and_logged_in(api)
    for n in range(4):
        response = await api.post(
            "/api/v1/auth/me/password",
            headers=bearer(tokens),
            json={
                "current_password": f"guess number {n}",
                "new_password": "tundra violet 6 anchor",
            },
        )
        assert response.status_code == 400
    right = await api.post(
        "/api/v1/auth/me/password",
        headers=bearer(tokens),
        json={"current_password": PASSWORD, "new_password": "tundra violet 6 anchor"},
    )
    assert right.status_code == 400  # locked: the stolen token guesses no further
    admin = bearer(await login(api, "admin", ADMIN["first_admin_password"]))
    actions = [e["action"] for e in await audit(api, admin, target=user["id"])]
    assert actions.count("password.change") >= 3
    assert "account.locked" in actions


async def test_parallel_first_uses_of_a_key_are_audited_once(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = (
        await api.post(
            "/api/v1/api-keys",
            headers=admin,
            json={"name": "burst", "scopes": [], **ADMIN_PASSWORD},
        )
    ).json()
    responses = await asyncio.gather(
        *(api.get("/api/v1/auth/me", headers={"X-API-Key": key["key"]}) for _ in range(20))
    )
    assert {r.status_code for r in responses} == {200}
    first_uses = await audit(api, admin, action="api_key.first_used", target=key["id"])
    assert len(first_uses) == 1


async def test_role_changes_by_any_endpoint_are_audited_as_assignments(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = await register(api)
    await api.patch(f"/api/v1/users/{user['id']}", headers=admin, json={"roles": ["auditor"]})
    assigned = await audit(api, admin, action="role.assigned", target=user["id"])
    assert assigned[0]["details"]["roles"] == "auditor"


async def test_one_login_budget_per_account_whatever_its_spelling(app_factory: AppFactory) -> None:
    api = await app_factory(
        database_url="memory://",
        _fake_hasher=True,
        rate_limit_enabled=True,
        rate_limit_login_per_account="4/60",
        lockout_threshold=100,
    )
    user = await register(api)
    names = [user["username"], user["email"], user["email"].upper(), user["username"]]
    for name in names:
        wrong = await api.post(
            "/api/v1/auth/login", json={"username": name, "password": "nope 1234"}
        )
        assert wrong.status_code == 401
    alias = await api.post(
        "/api/v1/auth/login", json={"username": user["email"], "password": "nope 1234"}
    )
    assert alias.status_code == 429


async def test_a_reset_link_dies_with_an_email_change_or_a_deactivation(
    app_factory: AppFactory, backend: dict[str, Any], mail_catcher: MailCatcher
) -> None:
    api = await app_factory(**smtp_settings(mail_catcher, backend), **ADMIN)
    user, tokens = await registered_and_logged_in(api)
    await api.post("/api/v1/auth/password-reset/request", json={"email": user["email"]})
    token = await mailed_token(mail_catcher, user["email"], 1)
    moved = await api.patch(
        "/api/v1/auth/me",
        headers=bearer(tokens),
        json={"email": "moved@example.com", "current_password": PASSWORD},
    )
    assert moved.status_code == 200
    stale = await api.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "tundra violet 6 anchor"},
    )
    assert stale.status_code == 400

    await api.post("/api/v1/auth/password-reset/request", json={"email": "moved@example.com"})
    fresh = await mailed_token(mail_catcher, "moved@example.com", 1)
    admin = bearer(await login(api, "admin", ADMIN["first_admin_password"]))
    await api.patch(f"/api/v1/users/{user['id']}", headers=admin, json={"is_active": False})
    inactive = await api.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": fresh, "new_password": "tundra violet 6 anchor"},
    )
    assert inactive.status_code == 400


async def test_verification_mails_to_one_address_are_rate_limited(
    app_factory: AppFactory, mail_catcher: MailCatcher
) -> None:
    api = await app_factory(
        **smtp_settings(mail_catcher, {"database_url": "memory://", "_fake_hasher": True}),
        rate_limit_enabled=True,
        rate_limit_reset_per_email="3/3600",
    )
    _, tokens = await registered_and_logged_in(api)
    await api.patch(
        "/api/v1/auth/me",
        headers=bearer(tokens),
        json={"email": "victim@example.org", "current_password": PASSWORD},
    )
    codes = [
        (await api.post("/api/v1/auth/verify-email/request", headers=bearer(tokens))).status_code
        for _ in range(5)
    ]
    assert codes == [202, 202, 202, 429, 429]


async def test_a_stolen_token_cannot_put_a_second_factor_in_front_of_the_owner(
    api: httpx.AsyncClient,
) -> None:
    _, tokens = await registered_and_logged_in(api)
    without = await api.post("/api/v1/auth/mfa/totp/setup", headers=bearer(tokens), json={})
    assert without.status_code == 422
    wrong = await api.post(
        "/api/v1/auth/mfa/totp/setup",
        headers=bearer(tokens),
        json={"current_password": "not the password"},
    )
    assert wrong.status_code == 400
    right = await api.post(
        "/api/v1/auth/mfa/totp/setup", headers=bearer(tokens), json={"current_password": PASSWORD}
    )
    assert right.status_code == 200
    assert right.json()["otpauth_uri"].startswith("otpauth://totp/")


async def test_turning_mfa_on_ends_sessions_opened_without_it(api: httpx.AsyncClient) -> None:
    import pyotp

    user, here = await registered_and_logged_in(api)
    elsewhere = await login(api, user["username"])  # perhaps a thief with the password
    setup = await api.post(
        "/api/v1/auth/mfa/totp/setup", headers=bearer(here), json={"current_password": PASSWORD}
    )
    code = pyotp.TOTP(setup.json()["secret"]).now()
    confirmed = await api.post(
        "/api/v1/auth/mfa/totp/confirm", headers=bearer(here), json={"code": code}
    )
    assert confirmed.status_code == 200
    assert (await api.get("/api/v1/auth/me", headers=bearer(here))).status_code == 200
    assert (await api.get("/api/v1/auth/me", headers=bearer(elsewhere))).status_code == 401
    refreshed = await api.post(
        "/api/v1/auth/refresh", json={"refresh_token": elsewhere["refresh_token"]}
    )
    assert refreshed.status_code == 401
