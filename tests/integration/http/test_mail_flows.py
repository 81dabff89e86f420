"""Email verification and password reset, end to end through a real SMTP server: the
flows complete from the tokens found in the mails the catcher received."""

import asyncio
import re
from typing import Any

from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import (
    PASSWORD,
    bearer,
    login,
    register,
    registered_and_logged_in,
)
from tests.mail_catcher import MailCatcher

TOKEN = re.compile(r"code: (hxo_[A-Za-z0-9_-]+)")


async def mailed_token(catcher: MailCatcher, to: str, count: int) -> str:
    """Wait for the `count`-th mail to `to` and pull the token out of it."""
    for _ in range(100):
        mails = [m for m in catcher.messages if m["To"] == to]
        if len(mails) >= count:
            body = mails[count - 1].get_content()
            assert "https://id.example.test/" in body  # PUBLIC_BASE_URL, never the Host
            match = TOKEN.search(body)
            assert match, body
            return match.group(1)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail #{count} to {to}: {[m['To'] for m in catcher.messages]}")


def smtp_settings(catcher: MailCatcher, backend: dict[str, Any]) -> dict[str, Any]:
    return {
        **backend,
        "smtp_host": catcher.host,
        "smtp_port": catcher.port,
        "smtp_starttls": False,
        "mail_from": "HexaHub <no-reply@id.example.test>",
        "public_base_url": "https://id.example.test",
    }


async def test_email_verification_completes_from_the_mailed_token(
    app_factory: AppFactory, backend: dict[str, Any], mail_catcher: MailCatcher
) -> None:
    client = await app_factory(**smtp_settings(mail_catcher, backend))
    user, tokens = await registered_and_logged_in(client)
    asked = await client.post(
        "/api/v1/auth/verify-email/request",
        headers={**bearer(tokens), "Host": "evil.example"},
    )
    assert asked.status_code == 202
    token = await mailed_token(mail_catcher, user["email"], 1)
    assert mail_catcher.envelopes[-1][0] == "no-reply@id.example.test"

    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200
    assert verified.json()["is_verified"] is True
    again = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_token"


async def test_password_reset_completes_from_the_mailed_token(
    app_factory: AppFactory, backend: dict[str, Any], mail_catcher: MailCatcher
) -> None:
    client = await app_factory(**smtp_settings(mail_catcher, backend))
    user, tokens = await registered_and_logged_in(client)
    for email in (user["email"], "nobody@example.com"):
        response = await client.post("/api/v1/auth/password-reset/request", json={"email": email})
        assert response.status_code == 202
        assert response.json() == {"status": "accepted"}
    token = await mailed_token(mail_catcher, user["email"], 1)

    weak = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": user["username"] + "-2024!"},
    )
    assert weak.status_code == 422  # the username plus a few characters; the token still works
    new_password = "quartz meadow 4 lantern"
    done = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    assert done.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer(tokens))).status_code == 401
    old = await client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert old.status_code == 401
    await login(client, user["username"], new_password)
    reused = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "x" * 20}
    )
    assert reused.status_code == 400
    assert not [m for m in mail_catcher.messages if m["To"] == "nobody@example.com"]


async def test_a_reset_token_dies_when_the_password_changes_another_way(
    app_factory: AppFactory, backend: dict[str, Any], mail_catcher: MailCatcher
) -> None:
    client = await app_factory(**smtp_settings(mail_catcher, backend))
    user, tokens = await registered_and_logged_in(client)
    await client.post("/api/v1/auth/password-reset/request", json={"email": user["email"]})
    token = await mailed_token(mail_catcher, user["email"], 1)
    changed = await client.post(
        "/api/v1/auth/me/password",
        headers=bearer(tokens),
        json={"current_password": PASSWORD, "new_password": "ember willow 5 harbor"},
    )
    assert changed.status_code == 204
    late = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "tundra violet 6 anchor"},
    )
    assert late.status_code == 400


async def test_required_verification_blocks_login_until_verified(
    app_factory: AppFactory, backend: dict[str, Any], mail_catcher: MailCatcher
) -> None:
    client = await app_factory(**smtp_settings(mail_catcher, backend), require_verified_email=True)
    user = await register(client)
    credentials = {"username": user["username"], "password": PASSWORD}
    refused = await client.post("/api/v1/auth/login", json=credentials)
    assert refused.status_code == 403
    assert refused.json()["error"] == "email_not_verified"
    wrong = await client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": "not it at all"}
    )
    assert wrong.status_code == 401  # the code is only told to the password's owner

    # Registration mailed the link, since this user could not log in to ask for it.
    token = await mailed_token(mail_catcher, user["email"], 1)
    assert (
        await client.post("/api/v1/auth/verify-email", json={"token": token})
    ).status_code == 200
    await login(client, user["username"])
