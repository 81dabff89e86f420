"""`/api/v1/auth/mfa/*` and the MFA challenge on `/login` and `/token`, over HTTP: the
shapes of API.md, the status of each refusal, and the headers that keep secrets out of
caches."""

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from dependency_injector import providers

from adapters.memory.clock import FixedClock
from tests.integration.http.conftest import ADMIN
from tests.integration.http.helpers import (
    PASSWORD,
    bearer,
    registered_and_logged_in,
)
from tests.integration.http.overriding import serving

MFA = "/api/v1/auth/mfa"


@dataclass
class Clocked:
    """An in-memory app whose clock moves only when told to, so TOTP steps are exact."""

    client: httpx.AsyncClient
    clock: FixedClock

    def code(self, secret: str, *, steps: int = 0) -> str:
        return pyotp.TOTP(secret).at(self.clock.now(), counter_offset=steps)

    def next_step(self) -> None:
        self.clock.advance(seconds=30)


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[Clocked]:
    clock = FixedClock()

    def override(container: Any) -> None:
        container.clock.override(providers.Object(clock))

    async with serving(tmp_path, override, **ADMIN) as client:
        yield Clocked(client, clock)


async def enroll(
    client: httpx.AsyncClient, headers: dict[str, str], code: Any
) -> tuple[str, list[str]]:
    """Set up and confirm TOTP; `code(secret)` is what the app shows now."""
    setup = await client.post(
        f"{MFA}/totp/setup", headers=headers, json={"current_password": PASSWORD}
    )
    assert setup.status_code == 200, setup.text
    secret: str = setup.json()["secret"]
    confirmed = await client.post(
        f"{MFA}/totp/confirm", headers=headers, json={"code": code(secret)}
    )
    assert confirmed.status_code == 200, confirmed.text
    codes: list[str] = confirmed.json()["recovery_codes"]
    return secret, codes


async def challenge(client: httpx.AsyncClient, username: str) -> str:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 401, response.text
    token: str = response.json()["mfa_token"]
    return token


async def enrolled_user(app: Clocked) -> tuple[dict[str, Any], dict[str, str], str, list[str]]:
    user, tokens = await registered_and_logged_in(app.client)
    secret, codes = await enroll(app.client, bearer(tokens), app.code)
    app.next_step()
    return user, bearer(tokens), secret, codes


# --- the whole story, on every backend --------------------------------------------------


async def test_enrol_then_log_in_in_two_steps(client: httpx.AsyncClient) -> None:
    user, tokens = await registered_and_logged_in(client)
    headers = bearer(tokens)

    setup = await client.post(
        f"{MFA}/totp/setup", headers=headers, json={"current_password": PASSWORD}
    )
    assert setup.status_code == 200, setup.text
    assert set(setup.json()) == {"secret", "otpauth_uri", "qr_svg"}
    assert setup.headers["cache-control"] == "no-store"
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert setup.json()["qr_svg"].startswith("<svg")

    totp = pyotp.TOTP(secret)
    confirmed = await client.post(f"{MFA}/totp/confirm", headers=headers, json={"code": totp.now()})
    assert confirmed.status_code == 200, confirmed.text
    assert set(confirmed.json()) == {"recovery_codes"}
    assert len(confirmed.json()["recovery_codes"]) == 10
    assert confirmed.headers["cache-control"] == "no-store"

    refused = await client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert refused.status_code == 401
    body = refused.json()
    assert body["error"] == "mfa_required"
    assert {"message", "request_id", "mfa_token"} <= set(body)
    assert "access_token" not in body
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert refused.headers["cache-control"] == "no-store"

    # The confirming code's step is used up; the app's next code is within the window.
    next_code = totp.at(time.time(), counter_offset=1)
    verified = await client.post(
        f"{MFA}/verify", json={"mfa_token": body["mfa_token"], "code": next_code}
    )
    assert verified.status_code == 200, verified.text
    pair = verified.json()
    assert {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "refresh_expires_in",
    } <= set(pair)
    assert verified.headers["cache-control"] == "no-store"
    me = await client.get("/api/v1/auth/me", headers=bearer(pair))
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]


# --- the challenge on /login and /token --------------------------------------------------------


async def test_the_token_endpoint_answers_the_same_challenge(clocked: Clocked) -> None:
    user, _, secret, _ = await enrolled_user(clocked)

    refused = await clocked.client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": user["username"], "password": PASSWORD},
    )

    assert refused.status_code == 401
    body = refused.json()
    assert body["error"] == "mfa_required"
    assert body["error_description"]
    assert refused.headers["cache-control"] == "no-store"
    assert refused.headers["www-authenticate"].startswith("Bearer")
    verified = await clocked.client.post(
        f"{MFA}/verify", json={"mfa_token": body["mfa_token"], "code": clocked.code(secret)}
    )
    assert verified.status_code == 200, verified.text


async def test_a_wrong_password_gets_no_challenge(clocked: Clocked) -> None:
    user, *_ = await enrolled_user(clocked)

    refused = await clocked.client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": "wrong password!"}
    )

    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_credentials"
    assert "mfa_token" not in refused.json()


# --- verify ----------------------------------------------------------------------------------


@pytest.mark.parametrize("token", ["forged", "eyJhbGciOiJub25lIn0.e30."])
async def test_a_forged_mfa_token_is_an_invalid_token(clocked: Clocked, token: str) -> None:
    _, _, secret, _ = await enrolled_user(clocked)

    response = await clocked.client.post(
        f"{MFA}/verify", json={"mfa_token": token, "code": clocked.code(secret)}
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_an_expired_mfa_token_is_an_invalid_token(clocked: Clocked) -> None:
    user, _, secret, _ = await enrolled_user(clocked)
    token = await challenge(clocked.client, user["username"])
    clocked.clock.advance(seconds=600)

    response = await clocked.client.post(
        f"{MFA}/verify", json={"mfa_token": token, "code": clocked.code(secret)}
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


async def test_a_wrong_or_replayed_code_is_invalid_credentials(clocked: Clocked) -> None:
    user, _, secret, _ = await enrolled_user(clocked)
    token = await challenge(clocked.client, user["username"])

    wrong = await clocked.client.post(
        f"{MFA}/verify", json={"mfa_token": token, "code": clocked.code(secret, steps=4)}
    )
    used = await clocked.client.post(
        f"{MFA}/verify", json={"mfa_token": token, "code": clocked.code(secret)}
    )
    replayed = await clocked.client.post(
        f"{MFA}/verify", json={"mfa_token": token, "code": clocked.code(secret)}
    )

    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_credentials")
    assert used.status_code == 200
    assert (replayed.status_code, replayed.json()["error"]) == (401, "invalid_credentials")


async def test_a_recovery_code_completes_a_login_once(clocked: Clocked) -> None:
    user, _, _, codes = await enrolled_user(clocked)
    token = await challenge(clocked.client, user["username"])

    first = await clocked.client.post(f"{MFA}/verify", json={"mfa_token": token, "code": codes[0]})
    again = await clocked.client.post(f"{MFA}/verify", json={"mfa_token": token, "code": codes[0]})

    assert first.status_code == 200
    assert again.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"mfa_token": "t"},
        {"code": "123456"},
        {"mfa_token": "t", "code": ""},
        {"mfa_token": "t", "code": "1" * 65},
        {"mfa_token": "t", "code": "123456", "user_id": "x"},
    ],
)
async def test_a_malformed_verify_body_is_a_validation_error(
    clocked: Clocked, body: dict[str, str]
) -> None:
    response = await clocked.client.post(f"{MFA}/verify", json=body)

    assert response.status_code == 422
    assert response.json()["error"] == "validation_error"


async def test_verify_takes_json_only(clocked: Clocked) -> None:
    response = await clocked.client.post(f"{MFA}/verify", data={"mfa_token": "t", "code": "123456"})
    assert response.status_code == 415


# --- setup and confirm -------------------------------------------------------------------------


async def test_setting_up_while_mfa_is_on_is_a_conflict(clocked: Clocked) -> None:
    _, headers, _, _ = await enrolled_user(clocked)

    response = await clocked.client.post(
        f"{MFA}/totp/setup", headers=headers, json={"current_password": PASSWORD}
    )

    assert (response.status_code, response.json()["error"]) == (409, "conflict")


async def test_a_wrong_confirmation_code_is_a_400_and_the_setup_stays(clocked: Clocked) -> None:
    _, tokens = await registered_and_logged_in(clocked.client)
    headers = bearer(tokens)
    secret = (
        await clocked.client.post(
            f"{MFA}/totp/setup", headers=headers, json={"current_password": PASSWORD}
        )
    ).json()["secret"]

    wrong = await clocked.client.post(
        f"{MFA}/totp/confirm", headers=headers, json={"code": clocked.code(secret, steps=3)}
    )
    right = await clocked.client.post(
        f"{MFA}/totp/confirm", headers=headers, json={"code": clocked.code(secret)}
    )

    assert wrong.status_code == 400
    assert wrong.json()["error"] == "bad_request"
    assert wrong.json()["details"] == [
        {"loc": ["body", "code"], "msg": wrong.json()["message"], "type": "invalid_mfa_code"}
    ]
    assert right.status_code == 200


async def test_confirming_without_a_setup_is_a_conflict(clocked: Clocked) -> None:
    _, tokens = await registered_and_logged_in(clocked.client)

    response = await clocked.client.post(
        f"{MFA}/totp/confirm", headers=bearer(tokens), json={"code": "123456"}
    )

    assert (response.status_code, response.json()["error"]) == (409, "conflict")


async def test_mfa_needs_a_login_session(clocked: Clocked) -> None:
    _, tokens = await registered_and_logged_in(clocked.client)
    created = await clocked.client.post(
        "/api/v1/api-keys",
        headers=bearer(tokens),
        json={"name": "k", "scopes": [], "current_password": PASSWORD},
    )
    assert created.status_code == 201, created.text
    key = {"X-API-Key": created.json()["key"]}

    with_key = await clocked.client.post(
        f"{MFA}/totp/setup", headers=key, json={"current_password": PASSWORD}
    )
    anonymous = await clocked.client.post(f"{MFA}/totp/setup", json={"current_password": PASSWORD})

    assert (with_key.status_code, with_key.json()["error"]) == (403, "forbidden")
    assert anonymous.status_code == 401


# --- disable ---------------------------------------------------------------------------------


async def test_disabling_needs_the_password_and_a_code(clocked: Clocked) -> None:
    user, headers, secret, _ = await enrolled_user(clocked)
    url = f"{MFA}/totp/disable"

    wrong_password = await clocked.client.post(
        url, headers=headers, json={"current_password": "wrong password!", "code": "000000"}
    )
    wrong_code = await clocked.client.post(
        url,
        headers=headers,
        json={"current_password": PASSWORD, "code": clocked.code(secret, steps=5)},
    )
    done = await clocked.client.post(
        url, headers=headers, json={"current_password": PASSWORD, "code": clocked.code(secret)}
    )

    assert wrong_password.status_code == 400
    assert wrong_password.json()["details"][0]["type"] == "invalid_current_password"
    assert wrong_code.status_code == 400
    assert wrong_code.json()["details"][0]["type"] == "invalid_mfa_code"
    assert done.status_code == 204
    login = await clocked.client.post(
        "/api/v1/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert login.status_code == 200
    again = await clocked.client.post(
        url, headers=headers, json={"current_password": PASSWORD, "code": "000000"}
    )
    assert (again.status_code, again.json()["error"]) == (409, "conflict")


async def test_every_step_is_in_the_audit_trail(clocked: Clocked) -> None:
    user, _, secret, codes = await enrolled_user(clocked)
    token = await challenge(clocked.client, user["username"])
    await clocked.client.post(f"{MFA}/verify", json={"mfa_token": token, "code": "000000"})
    await clocked.client.post(f"{MFA}/verify", json={"mfa_token": token, "code": codes[0]})

    admin = await clocked.client.post(
        "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN["first_admin_password"]},
    )
    trail = await clocked.client.get(
        "/api/v1/audit-events",
        headers=bearer(admin.json()),
        params={"target": user["id"], "limit": 100},
    )
    assert trail.status_code == 200, trail.text
    actions = {(row["action"], row["outcome"]) for row in trail.json()["items"]}

    assert {
        ("mfa.enabled", "success"),
        ("auth.login", "failure"),  # the password step: reason mfa_required
        ("auth.mfa", "failure"),
        ("auth.mfa_passed", "success"),
        ("mfa.recovery_code_used", "success"),
        ("auth.login", "success"),
    } <= actions
    assert secret not in trail.text
    assert codes[0] not in trail.text


async def test_the_mfa_routes_are_documented(clocked: Clocked) -> None:
    paths = (await clocked.client.get("/openapi.json")).json()["paths"]

    for path in ("/totp/setup", "/totp/confirm", "/totp/disable", "/verify"):
        assert f"{MFA}{path}" in paths
