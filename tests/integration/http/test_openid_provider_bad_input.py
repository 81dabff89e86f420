"""Every bad input of the authorization code flow gets the error the standards ask for:
an error page (never a redirect) when the client or redirect URI cannot be trusted, an
RFC 6749 §4.1.2.1 redirect otherwise, RFC 6749 §5.2 codes at the token endpoint."""

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pyotp
import pytest
from asgi_lifespan import LifespanManager
from dependency_injector import providers

from adapters.memory.clock import FixedClock
from adapters.memory.password_hasher import FakePasswordHasher
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.integration.http.browser import BASE, Browser, forms_of
from tests.integration.http.conftest import ADMIN, STARTUP_TIMEOUT, AppFactory, make_settings
from tests.integration.http.helpers import bearer, register, registered_and_logged_in
from tests.integration.http.test_mfa_api import enroll
from tests.integration.http.test_openid_provider import (
    CALLBACK,
    new_client,
    query_of,
    sign_in,
    transport_of,
)

VERIFIER = secrets.token_urlsafe(48)


def challenge(verifier: str = VERIFIER) -> str:
    import base64
    import hashlib

    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(client: str, **overrides: str | None) -> str:
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client,
        "redirect_uri": CALLBACK,
        "scope": "openid email",
        "state": "s-123",
        "nonce": "n-456",
        "code_challenge": challenge(),
        "code_challenge_method": "S256",
        **overrides,
    }
    return "/oauth2/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


@pytest.fixture
async def setup(app_factory: AppFactory) -> Any:
    api = await app_factory(
        database_url="memory://", _fake_hasher=True, **ADMIN, public_base_url=BASE
    )
    login = await api.post(
        "/api/v1/auth/login",
        json={"username": "admin", "password": ADMIN["first_admin_password"]},
    )
    admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
    browser = Browser(transport_of(api))
    yield api, admin, browser
    await browser.aclose()


async def code_for(
    api: httpx.AsyncClient, browser: Browser, client_id: str
) -> tuple[str, dict[str, Any]]:
    person = await register(api)
    back = await sign_in(browser, authorize_url(client_id), person["username"], person["password"])
    assert back.status_code == 303, back.text
    return query_of(back)["code"], person


def exchange(client_id: str, code: str, **overrides: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "code_verifier": VERIFIER,
        "client_id": client_id,
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"redirect_uri": "https://evil.example/callback"}, "an unregistered redirect URI"),
        ({"redirect_uri": CALLBACK + "/"}, "a redirect URI that only starts the same"),
        ({"redirect_uri": None}, "no redirect URI"),
        ({"client_id": "hxc_unknown"}, "an unknown client"),
    ],
)
async def test_an_untrusted_client_or_redirect_uri_gets_a_page_never_a_redirect(
    setup: Any, overrides: dict[str, str | None], why: str
) -> None:
    api, admin, browser = setup
    client = await new_client(api, admin)
    response = await browser.go(authorize_url(client["client_id"], **overrides))
    assert response.status_code == 400, why
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "openid admin"}, "invalid_scope"),
    ],
)
async def test_other_bad_requests_go_back_to_the_client_with_the_state(
    setup: Any, overrides: dict[str, str | None], error: str
) -> None:
    api, admin, browser = setup
    client = await new_client(api, admin)
    response = await browser.go(authorize_url(client["client_id"], **overrides))
    assert response.status_code == 303
    assert response.headers["location"].startswith(CALLBACK + "?")
    assert query_of(response)["error"] == error
    assert query_of(response)["state"] == "s-123"


async def test_the_token_endpoint_refuses_every_wrong_presentation_of_a_code(
    setup: Any,
) -> None:
    api, admin, browser = setup
    client = await new_client(api, admin)
    other = await new_client(api, admin, name="other-party")
    code, _ = await code_for(api, browser, client["client_id"])
    token = "/api/v1/auth/token"
    cases = [
        (
            exchange(client["client_id"], code, code_verifier=secrets.token_urlsafe(48)),
            "invalid_grant",
        ),
        (exchange(other["client_id"], code), "invalid_grant"),
        (
            exchange(client["client_id"], code, redirect_uri="https://rp.example/other"),
            "invalid_grant",
        ),
        (exchange(client["client_id"], "not-a-code"), "invalid_grant"),
        (
            {k: v for k, v in exchange(client["client_id"], code).items() if k != "code_verifier"},
            "invalid_request",
        ),
        (exchange("hxc_unknown", code), "invalid_client"),
        (exchange(client["client_id"], code, client_secret="guess"), "invalid_client"),
    ]
    for form, error in cases:
        response = await api.post(token, data=form)
        assert response.status_code in (400, 401), form
        assert response.json()["error"] == error, (form, response.text)
        assert response.json()["error_description"]
    # None of those used the code up.
    assert (await api.post(token, data=exchange(client["client_id"], code))).status_code == 200


async def test_a_confidential_client_must_authenticate_as_it_registered(setup: Any) -> None:
    api, admin, browser = setup
    client = await new_client(api, admin, token_endpoint_auth_method="client_secret_basic")
    code, _ = await code_for(api, browser, client["client_id"])
    token = "/api/v1/auth/token"
    without = await api.post(token, data=exchange(client["client_id"], code))
    assert without.status_code == 401
    assert without.json()["error"] == "invalid_client"
    by_form = await api.post(
        token, data=exchange(client["client_id"], code, client_secret=client["client_secret"])
    )
    assert by_form.json()["error"] == "invalid_client"
    form = exchange(client["client_id"], code)
    del form["client_id"]
    basic = await api.post(token, data=form, auth=(client["client_id"], client["client_secret"]))
    assert basic.status_code == 200, basic.text


async def test_an_expired_code_is_refused(tmp_path: Path) -> None:
    clock = FixedClock(datetime.now(UTC))
    settings = make_settings(tmp_path, database_url="memory://", **ADMIN, public_base_url=BASE)
    container = Container(settings=providers.Object(settings))
    container.clock.override(providers.Object(clock))
    container.password_hasher.override(providers.Singleton(FakePasswordHasher))
    async with LifespanManager(
        create_app(settings, container), startup_timeout=STARTUP_TIMEOUT
    ) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as api:
            login = await api.post(
                "/api/v1/auth/login",
                json={"username": "admin", "password": ADMIN["first_admin_password"]},
            )
            admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
            browser = Browser(transport)
            client = await new_client(api, admin)
            code, _ = await code_for(api, browser, client["client_id"])
            clock.advance(timedelta(seconds=61))
            response = await api.post(
                "/api/v1/auth/token", data=exchange(client["client_id"], code)
            )
            await browser.aclose()
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "expired" in response.json()["error_description"]


async def test_forms_without_the_right_csrf_token_are_refused(setup: Any) -> None:
    api, admin, browser = setup
    client = await new_client(api, admin)
    person = await register(api)
    page = await browser.go(authorize_url(client["client_id"]))
    for token in ("", "0" * 64):
        refused = await browser.submit(
            page, csrf_token=token, username=person["username"], password=person["password"]
        )
        assert refused.status_code == 403
        assert "set-cookie" not in refused.headers
    # A form posted from another site carries no cookie of ours at all.
    stranger = Browser(transport_of(api))
    (form,) = forms_of(page.text)
    forged = await stranger.http.post(
        form.action,
        data={**form.inputs, "username": person["username"], "password": person["password"]},
    )
    assert forged.status_code == 403
    await stranger.aclose()


async def test_a_wrong_password_shows_the_form_again(setup: Any) -> None:
    api, admin, browser = setup
    client = await new_client(api, admin)
    person = await register(api)
    page = await browser.go(authorize_url(client["client_id"]))
    again = await browser.submit(page, username=person["username"], password="wrong password 1")
    assert again.status_code == 401
    assert "Wrong username or password." in again.text
    assert "location" not in again.headers
    (form,) = forms_of(again.text)
    assert {"username", "password"} <= set(form.inputs)


async def test_the_pages_run_under_a_strict_content_security_policy(setup: Any) -> None:
    api, admin, browser = setup
    client = await new_client(api, admin)
    page = await browser.go(authorize_url(client["client_id"]))
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "params",
    [
        {"post_logout_redirect_uri": "https://evil.example/"},
        {"post_logout_redirect_uri": CALLBACK},  # registered, but for which client?
        {"id_token_hint": "not-a-token", "post_logout_redirect_uri": CALLBACK},
    ],
)
async def test_logout_never_redirects_where_it_should_not(
    setup: Any, params: dict[str, str]
) -> None:
    api, admin, browser = setup
    await new_client(api, admin)
    response = await browser.go("/oauth2/logout?" + urlencode(params))
    assert response.status_code == 400
    assert "location" not in response.headers


async def test_logout_without_a_hint_asks_before_it_signs_out(setup: Any) -> None:
    api, admin, browser = setup
    client = await new_client(api, admin)
    _code, _person = await code_for(api, browser, client["client_id"])
    ask = await browser.go(
        "/oauth2/logout?"
        + urlencode({"client_id": client["client_id"], "post_logout_redirect_uri": CALLBACK})
    )
    assert ask.status_code == 200
    # Still signed in: a new authorization needs no password.
    assert (await browser.go(authorize_url(client["client_id"]))).status_code == 303
    done = await browser.submit(ask)
    assert done.status_code == 303
    assert done.headers["location"].startswith(CALLBACK)
    assert (await browser.go(authorize_url(client["client_id"]))).status_code == 200


async def test_an_account_with_a_second_factor_passes_the_mfa_step_on_the_page(
    setup: Any,
) -> None:
    api, admin, browser = setup
    client = await new_client(api, admin)
    user, tokens = await registered_and_logged_in(api)
    _, recovery_codes = await enroll(api, bearer(tokens), lambda s: pyotp.TOTP(s).now())
    page = await browser.go(authorize_url(client["client_id"]))
    step = await browser.submit(page, username=user["username"], password=user["password"])
    assert step.status_code == 200
    (form,) = forms_of(step.text)
    assert "code" in form.inputs
    assert "mfa_token" in form.inputs
    wrong = await browser.submit(step, code="000000")
    assert wrong.status_code == 401
    assert "That code is not right." in wrong.text
    done = await browser.submit(wrong, code=recovery_codes[0])
    assert done.status_code == 303
    assert done.headers["location"].startswith(CALLBACK)
    assert "code" in query_of(done)


async def test_signing_out_everywhere_ends_the_pages_sign_in_too(setup: Any) -> None:
    api, admin, browser = setup
    client = await new_client(api, admin)
    code, _ = await code_for(api, browser, client["client_id"])
    assert (await browser.go(authorize_url(client["client_id"]))).status_code == 303
    tokens = await api.post("/api/v1/auth/token", data=exchange(client["client_id"], code))
    ended = await api.post("/api/v1/auth/logout-all", headers=bearer(tokens.json()))
    assert ended.status_code == 204
    page = await browser.go(authorize_url(client["client_id"]))
    assert page.status_code == 200  # the password is asked again
    assert {"username", "password"} <= set(forms_of(page.text)[0].inputs)
