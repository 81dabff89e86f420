"""Identity endpoints as API.md states them, on every backend."""

import asyncio
from typing import Any

import httpx
import jwt

from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import (
    PASSWORD,
    bearer,
    login,
    new_identity,
    register,
    registered_and_logged_in,
)

AUTH = "/api/v1/auth"


async def test_register_returns_the_user_without_secrets(client: httpx.AsyncClient) -> None:
    identity = new_identity()
    response = await client.post(
        f"{AUTH}/register",
        json={**identity, "email": identity["email"].upper(), "full_name": "Ada"},
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "email",
        "username",
        "full_name",
        "is_active",
        "is_verified",
        "roles",
        "oauth_provider",
        "created_at",
        "updated_at",
        "last_login_at",
    }
    assert body["email"] == identity["email"]  # normalised to lower case
    assert body["roles"] == ["user"]
    assert body["is_active"] is True
    assert body["is_verified"] is False
    assert PASSWORD not in response.text
    assert "argon2" not in response.text


async def test_taken_email_or_username_is_a_conflict(client: httpx.AsyncClient) -> None:
    user = await register(client)
    same_email = {**new_identity(), "email": user["email"].upper()}
    same_name = {**new_identity(), "username": user["username"]}
    for body in (same_email, same_name):
        response = await client.post(f"{AUTH}/register", json=body)
        assert response.status_code == 409
        assert response.json()["error"] == "conflict"


async def test_login_by_username_or_email_gives_a_token_pair(client: httpx.AsyncClient) -> None:
    user = await register(client)
    for name in (user["username"], user["email"].upper()):
        tokens = await login(client, name)
        assert tokens["token_type"] == "bearer"
        assert tokens["expires_in"] == 1800
        assert tokens["refresh_expires_in"] > 0
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert {"iss", "sub", "aud", "exp", "iat", "jti", "sid"} <= set(claims)
        assert claims["sub"] == user["id"]


async def test_wrong_password_and_unknown_user_look_the_same(client: httpx.AsyncClient) -> None:
    user = await register(client)
    wrong = await client.post(
        f"{AUTH}/login", json={"username": user["username"], "password": "nope-nope-nope"}
    )
    unknown = await client.post(
        f"{AUTH}/login", json={"username": "nobody-here", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda r: {k: v for k, v in r.json().items() if k != "request_id"}  # noqa: E731
    assert strip(wrong) == strip(unknown)
    assert wrong.json()["error"] == "invalid_credentials"


async def test_me_returns_the_caller(client: httpx.AsyncClient) -> None:
    user, tokens = await registered_and_logged_in(client)
    response = await client.get(f"{AUTH}/me", headers=bearer(tokens))
    assert response.status_code == 200
    assert response.json()["id"] == user["id"]
    assert response.json()["last_login_at"] is not None


async def test_refresh_rotates_and_reuse_revokes_the_session(
    app_factory: AppFactory, backend: dict[str, Any]
) -> None:
    # Strict mode: any second use is theft, so the test needs no clock games.
    client = await app_factory(**backend, refresh_reuse_grace_seconds=0)
    _, tokens = await registered_and_logged_in(client)
    first = await client.post(f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert (await client.get(f"{AUTH}/me", headers=bearer(rotated))).status_code == 200

    reused = await client.post(f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["error"] == "invalid_token"
    # The whole family died: the newest refresh token and access token too.
    newest = await client.post(f"{AUTH}/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert newest.status_code == 401
    assert (await client.get(f"{AUTH}/me", headers=bearer(rotated))).status_code == 401


async def test_concurrent_refreshes_with_one_token_succeed_once(client: httpx.AsyncClient) -> None:
    _, tokens = await registered_and_logged_in(client)
    responses = await asyncio.gather(
        *(
            client.post(f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]})
            for _ in range(8)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [401] * 7
    # The race cost nothing: the winner's new tokens work (two tabs, one login).
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert (await client.get(f"{AUTH}/me", headers=bearer(winner))).status_code == 200
    again = await client.post(f"{AUTH}/refresh", json={"refresh_token": winner["refresh_token"]})
    assert again.status_code == 200


async def test_logout_kills_access_and_refresh_token_at_once(client: httpx.AsyncClient) -> None:
    _, tokens = await registered_and_logged_in(client)
    assert (await client.post(f"{AUTH}/logout", headers=bearer(tokens))).status_code == 204
    me = await client.get(f"{AUTH}/me", headers=bearer(tokens))
    assert me.status_code == 401
    assert me.headers["www-authenticate"].startswith("Bearer")
    refreshed = await client.post(
        f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401


async def test_logout_all_revokes_every_session(client: httpx.AsyncClient) -> None:
    user, first = await registered_and_logged_in(client)
    second = await login(client, user["username"])
    assert (await client.post(f"{AUTH}/logout-all", headers=bearer(second))).status_code == 204
    for tokens in (first, second):
        assert (await client.get(f"{AUTH}/me", headers=bearer(tokens))).status_code == 401


async def test_sessions_list_and_revoke_one(client: httpx.AsyncClient) -> None:
    user, phone = await registered_and_logged_in(client)
    laptop = await login(client, user["username"])
    listed = await client.get(f"{AUTH}/sessions", headers=bearer(laptop))
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert len(items) == 2
    assert {"id", "created_at", "last_used_at", "expires_at", "ip", "user_agent", "current"} == set(
        items[0]
    )
    current = [s for s in items if s["current"]]
    other = [s for s in items if not s["current"]]
    assert len(current) == 1
    assert len(other) == 1

    revoked = await client.delete(f"{AUTH}/sessions/{other[0]['id']}", headers=bearer(laptop))
    assert revoked.status_code == 204
    assert (await client.get(f"{AUTH}/me", headers=bearer(phone))).status_code == 401
    assert (await client.get(f"{AUTH}/me", headers=bearer(laptop))).status_code == 200
    again = await client.delete(f"{AUTH}/sessions/{other[0]['id']}", headers=bearer(laptop))
    assert again.status_code == 404


async def test_cannot_revoke_another_users_session(client: httpx.AsyncClient) -> None:
    _, mine = await registered_and_logged_in(client)
    _, theirs = await registered_and_logged_in(client)
    their_sid = jwt.decode(theirs["access_token"], options={"verify_signature": False})["sid"]
    response = await client.delete(f"{AUTH}/sessions/{their_sid}", headers=bearer(mine))
    assert response.status_code == 404
    assert (await client.get(f"{AUTH}/me", headers=bearer(theirs))).status_code == 200


async def test_update_profile_and_email_change_clears_verification(
    client: httpx.AsyncClient,
) -> None:
    _, tokens = await registered_and_logged_in(client)
    other = await register(client)
    response = await client.patch(
        f"{AUTH}/me",
        headers=bearer(tokens),
        json={
            "full_name": "Grace Hopper",
            "email": "New@Example.com",
            "current_password": PASSWORD,
        },
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Grace Hopper"
    assert response.json()["email"] == "new@example.com"
    assert response.json()["is_verified"] is False
    taken = await client.patch(
        f"{AUTH}/me",
        headers=bearer(tokens),
        json={"username": other["username"], "current_password": PASSWORD},
    )
    assert taken.status_code == 409
    escalate = await client.patch(f"{AUTH}/me", headers=bearer(tokens), json={"roles": ["admin"]})
    assert escalate.status_code == 422


async def test_password_change_revokes_other_sessions_and_keeps_this_one(
    client: httpx.AsyncClient,
) -> None:
    user, this = await registered_and_logged_in(client)
    other = await login(client, user["username"])
    new_password = "a brand new passphrase"
    wrong = await client.post(
        f"{AUTH}/me/password",
        headers=bearer(this),
        json={"current_password": "not-the-password", "new_password": new_password},
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "bad_request"
    assert wrong.json()["details"] == [
        {
            "loc": ["body", "current_password"],
            "msg": "current password is incorrect",
            "type": "invalid_current_password",
        }
    ]
    changed = await client.post(
        f"{AUTH}/me/password",
        headers=bearer(this),
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    assert changed.status_code == 204
    assert (await client.get(f"{AUTH}/me", headers=bearer(this))).status_code == 200
    assert (await client.get(f"{AUTH}/me", headers=bearer(other))).status_code == 401
    old = await client.post(
        f"{AUTH}/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert old.status_code == 401
    await login(client, user["username"], new_password)


async def test_oauth_token_endpoint_password_and_refresh_grants(client: httpx.AsyncClient) -> None:
    user = await register(client)
    granted = await client.post(
        f"{AUTH}/token",
        data={"grant_type": "password", "username": user["username"], "password": PASSWORD},
    )
    assert granted.status_code == 200
    assert granted.headers["cache-control"] == "no-store"
    body = granted.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    refreshed = await client.post(
        f"{AUTH}/token",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != body["refresh_token"]


async def test_oauth_token_errors_use_rfc6749_codes(client: httpx.AsyncClient) -> None:
    user = await register(client)
    cases = [
        (
            {"grant_type": "password", "username": user["username"], "password": "wrong-password"},
            "invalid_grant",
        ),
        ({"grant_type": "refresh_token", "refresh_token": "hxr_not-a-real-token"}, "invalid_grant"),
        ({"grant_type": "implicit"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "password", "username": user["username"]}, "invalid_request"),
        ({}, "invalid_request"),
    ]
    for form, code in cases:
        response = await client.post(f"{AUTH}/token", data=form)
        assert response.status_code == 400, (form, response.text)
        body = response.json()
        assert body["error"] == code
        assert body["error_description"]
        assert body["request_id"]


async def test_revoke_endpoint_revokes_and_never_reveals(client: httpx.AsyncClient) -> None:
    _, tokens = await registered_and_logged_in(client)
    unknown = await client.post(f"{AUTH}/revoke", data={"token": "made-up"})
    assert unknown.status_code == 200
    revoked = await client.post(
        f"{AUTH}/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
    )
    assert revoked.status_code == 200
    assert (await client.get(f"{AUTH}/me", headers=bearer(tokens))).status_code == 401


async def test_revoking_an_access_token_ends_its_session(client: httpx.AsyncClient) -> None:
    _, tokens = await registered_and_logged_in(client)
    response = await client.post(f"{AUTH}/revoke", data={"token": tokens["access_token"]})
    assert response.status_code == 200
    refreshed = await client.post(
        f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401
