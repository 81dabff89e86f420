"""Account security over HTTP: what a stolen access token can no longer do, the notice
the old address gets, reset mail an attacker cannot starve, and what an unlock lifts."""

import asyncio
from pathlib import Path
from typing import Any

import httpx
from dependency_injector import providers

from adapters.memory.clock import FixedClock
from entrypoints.container import Container
from tests.integration.http.conftest import ADMIN, AppFactory
from tests.integration.http.helpers import (
    PASSWORD,
    bearer,
    login,
    register,
    registered_and_logged_in,
)
from tests.integration.http.overriding import serving
from tests.integration.http.test_mail_flows import mailed_token, smtp_settings
from tests.mail_catcher import MailCatcher

ME = "/api/v1/auth/me"
RESET = "/api/v1/auth/password-reset/request"
ATTACKER = "thief@attacker.example"


async def settle_mail(catcher: MailCatcher, count: int) -> None:
    """Wait until `count` mails arrived (the dispatcher sends after the answer)."""
    for _ in range(100):
        if len(catcher.messages) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(catcher.messages)} mails, expected {count}")


async def test_a_stolen_access_token_cannot_take_the_account_over(
    app_factory: AppFactory, backend: dict[str, Any], mail_catcher: MailCatcher
) -> None:
    api = await app_factory(**smtp_settings(mail_catcher, backend))
    victim, stolen = await registered_and_logged_in(api)
    thief = bearer(stolen)

    # 1. Move the account's mail (and so its password resets) to the attacker.
    for body in ({"email": ATTACKER}, {"email": ATTACKER, "current_password": "a guess"}):
        moved = await api.patch(ME, headers=thief, json=body)
        assert moved.status_code == 400, moved.text
        error = moved.json()
        assert error["error"] == "bad_request"
        assert error["details"][0]["loc"] == ["body", "current_password"]
        assert error["details"][0]["type"] == "invalid_current_password"
    me = (await api.get(ME, headers=thief)).json()
    assert me["email"] == victim["email"]

    # 2. A reset through the attacker's address: nothing is mailed there.
    assert (await api.post(RESET, json={"email": ATTACKER})).status_code == 202
    # 3. ...while a reset for the owner's address still reaches the owner.
    assert (await api.post(RESET, json={"email": victim["email"]})).status_code == 202
    token = await mailed_token(mail_catcher, victim["email"], 1)
    assert token
    assert [m["To"] for m in mail_catcher.messages] == [victim["email"]]


async def test_a_token_used_after_the_sign_in_window_cannot_rename_or_mint_a_key(
    tmp_path: Path,
) -> None:
    """Right after signing in, a client renames itself or creates its key ("sudo mode");
    a token used later (stolen, say) must send the password for either."""
    clock = FixedClock()

    def override(container: Container) -> None:
        container.clock.override(providers.Object(clock))

    async with serving(tmp_path, override) as api:
        _, tokens = await registered_and_logged_in(api)
        owner = bearer(tokens)
        assert (await api.patch(ME, headers=owner, json={"username": "fresh"})).status_code == 200
        fresh_key = await api.post("/api/v1/api-keys", headers=owner, json={"name": "ci"})
        assert fresh_key.status_code == 201, fresh_key.text

        clock.advance(seconds=301)  # REAUTH_WINDOW_SECONDS is 300 by default
        renamed = await api.patch(ME, headers=owner, json={"username": "thief"})
        key = await api.post("/api/v1/api-keys", headers=owner, json={"name": "backdoor"})
        for refused in (renamed, key):
            assert refused.status_code == 400, refused.text
            assert refused.json()["details"][0]["type"] == "invalid_current_password"
        assert (await api.get(ME, headers=owner)).json()["username"] == "fresh"
        with_password = await api.post(
            "/api/v1/api-keys", headers=owner, json={"name": "ci2", "current_password": PASSWORD}
        )
        assert with_password.status_code == 201, with_password.text


async def test_the_owners_email_change_tells_the_old_address(
    app_factory: AppFactory, backend: dict[str, Any], mail_catcher: MailCatcher
) -> None:
    api = await app_factory(**smtp_settings(mail_catcher, backend))
    owner, tokens = await registered_and_logged_in(api)
    moved = await api.patch(
        ME,
        headers=bearer(tokens),
        json={"email": "owner@new.example", "current_password": PASSWORD},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["email"] == "owner@new.example"
    await settle_mail(mail_catcher, 1)
    [notice] = mail_catcher.messages
    assert notice["To"] == owner["email"]
    text = notice.get_content()
    assert f"from {owner['email']} to owner@new.example" in text
    assert "administrator" in text
    assert "https://id.example.test/reset-password" in text
    assert PASSWORD not in text
    # The account's resets now go to the new address, and only there.
    assert (await api.post(RESET, json={"email": "owner@new.example"})).status_code == 202
    await mailed_token(mail_catcher, "owner@new.example", 1)


async def test_the_profile_without_sensitive_fields_needs_no_password(
    memory_client: httpx.AsyncClient,
) -> None:
    user, tokens = await registered_and_logged_in(memory_client)
    response = await memory_client.patch(
        ME,
        headers=bearer(tokens),
        # The same email and username, as a form sends them back: no change, no password.
        json={"full_name": "Grace", "email": user["email"], "username": user["username"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Grace"


async def test_an_attacker_spending_the_reset_budget_does_not_starve_the_owner(
    app_factory: AppFactory, mail_catcher: MailCatcher
) -> None:
    api = await app_factory(
        **smtp_settings(mail_catcher, {"database_url": "memory://", "_fake_hasher": True}),
        rate_limit_enabled=True,
        rate_limit_reset_per_email_client="3/3600",
        rate_limit_reset_per_email="10/3600",
        trusted_proxies="127.0.0.0/8",
    )
    owner = await register(api)
    attacker = {"X-Forwarded-For": "198.51.100.66"}
    codes = [
        (await api.post(RESET, headers=attacker, json={"email": owner["email"]})).status_code
        for _ in range(6)
    ]
    assert codes == [202, 202, 202, 429, 429, 429]
    await settle_mail(mail_catcher, 3)

    from_home = {"X-Forwarded-For": "203.0.113.20"}
    mine = await api.post(RESET, headers=from_home, json={"email": owner["email"]})
    assert mine.status_code == 202
    token = await mailed_token(mail_catcher, owner["email"], 4)
    reset = await api.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "tundra violet 6 anchor"},
    )
    assert reset.status_code == 204


async def test_an_unlock_lets_the_owner_sign_in_at_once(app_factory: AppFactory) -> None:
    api = await app_factory(
        database_url="memory://",
        _fake_hasher=True,
        **ADMIN,
        rate_limit_enabled=True,
        rate_limit_login_per_account="3/60",
        lockout_threshold=3,
    )
    admin = bearer(await login(api, "admin", ADMIN["first_admin_password"]))
    user = await register(api)
    for n in range(3):
        wrong = await api.post(
            "/api/v1/auth/login", json={"username": user["username"], "password": f"no {n}"}
        )
        assert wrong.status_code == 401
    refused = await api.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert refused.status_code == 429  # the budget, before the lock is even looked at

    locked = (await api.get(f"/api/v1/users/{user['id']}", headers=admin)).json()
    assert locked["locked"] is True
    assert locked["locked_until"] is not None
    unlocked = await api.post(f"/api/v1/users/{user['id']}/unlock", headers=admin)
    assert (unlocked.json()["locked"], unlocked.json()["locked_until"]) == (False, None)

    signed_in = await api.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text


async def test_only_administrators_see_whether_an_account_is_locked(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user, tokens = await registered_and_logged_in(api)
    seen = (await api.get(f"/api/v1/users/{user['id']}", headers=admin)).json()
    assert (seen["locked"], seen["locked_until"]) == (False, None)
    listed = (await api.get("/api/v1/users", headers=admin)).json()["items"]
    assert all({"locked", "locked_until"} <= set(item) for item in listed)

    for own in (ME, f"/api/v1/users/{user['id']}"):
        body = (await api.get(own, headers=bearer(tokens))).json()
        assert body["id"] == user["id"]
        assert "locked" not in body
        assert "locked_until" not in body
    admins_own = (await api.get(ME, headers=admin)).json()
    assert "locked" not in admins_own


async def test_the_document_tells_clients_about_re_authentication_and_locks(
    openapi: dict[str, Any],
) -> None:
    schemas = openapi["components"]["schemas"]
    for operation, body in (
        (openapi["paths"]["/api/v1/auth/me"]["patch"], "ProfileUpdateIn"),
        (openapi["paths"]["/api/v1/api-keys"]["post"], "ApiKeyCreateIn"),
    ):
        assert "400" in operation["responses"]
        password = schemas[body]["properties"]["current_password"]
        assert password["format"] == "password"
        assert "current_password" not in schemas[body].get("required", [])
    user = schemas["UserOut"]
    assert user["properties"]["locked"]["type"] == "boolean"
    assert "default" not in user["properties"]["locked"]
    assert not {"locked", "locked_until"} & set(user["required"])
