"""A person in Chromium on the hosted pages: signing in to an application (password,
second factor, consent), the mailed links, signing out. The `tab` fixture fails any
test whose pages logged a console error, a Content-Security-Policy violation above all.
"""

import asyncio
import time

import httpx
import jwt
import pyotp
import pytest

from tests.browser.conftest import (
    PASSWORD,
    Application,
    Authorization,
    Tab,
    bearer,
    mailed_link,
)
from tests.e2e.conftest import Server
from tests.mail_catcher import MailCatcher

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


async def exchange(api: httpx.AsyncClient, request: Authorization, code: str) -> dict[str, str]:
    """The application's back channel: the code and the PKCE verifier for tokens."""
    response = await api.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": request.redirect_uri,
            "code_verifier": request.verifier,
            "client_id": request.client_id,
        },
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def verified(issuer: str, request: Authorization, id_token: str) -> dict[str, str]:
    """The id_token checked as an application does: the key from the JWKS URL."""
    jwks = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json")
    claims: dict[str, str] = jwt.decode(
        id_token,
        jwks.get_signing_key_from_jwt(id_token).key,
        algorithms=["RS256", "EdDSA"],
        audience=request.client_id,
        issuer=issuer,
    )
    return claims


async def test_a_person_signs_in_to_a_third_party_application(
    tab: Tab, server: Server, api: httpx.AsyncClient, third_party: Application, person: dict
) -> None:
    request = third_party.authorization()
    await tab.page.goto(request.address)
    assert await tab.page.title() == "Sign in"
    assert "Sign in to continue to Photo Printer." in await tab.text()

    await tab.sign_in(person["username"])
    assert await tab.page.title() == "Allow access"
    consent = await tab.text()
    assert "Photo Printer asks to:" in consent
    assert "See your email address" in consent

    await tab.submit("Allow")
    answer = tab.back_at(request)
    assert answer["iss"] == server.url

    tokens = await exchange(api, request, answer["code"])
    claims = await asyncio.to_thread(verified, server.url, request, tokens["id_token"])
    assert claims["sub"] == person["id"]
    assert claims["nonce"] == request.nonce
    assert claims["email"] == person["email"]
    info = await api.get(
        "/oauth2/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.json()["preferred_username"] == person["username"]

    # Consent is asked once: the application's next request goes straight back.
    again = third_party.authorization()
    await tab.page.goto(again.address)
    assert tab.back_at(again)["code"] != answer["code"]


async def test_denying_consent_sends_the_person_back_with_access_denied(
    tab: Tab, third_party: Application, person: dict
) -> None:
    request = third_party.authorization()
    await tab.page.goto(request.address)
    await tab.sign_in(person["username"])
    await tab.submit("Deny")
    answer = tab.back_at(request)
    assert answer["error"] == "access_denied"
    assert "code" not in answer


async def test_a_wrong_password_is_shown_on_the_page_and_goes_nowhere(
    tab: Tab, server: Server, first_party: Application, person: dict
) -> None:
    request = first_party.authorization()
    await tab.page.goto(request.address)
    await tab.sign_in(person["username"], "not the password at all")

    assert tab.page.url.startswith(f"{server.url}/oauth2/authorize?")
    alert = tab.page.get_by_role("alert")
    assert await alert.inner_text() == "Wrong username or password."
    # The page's own style applies under its CSP (the one inline style, allowed by hash).
    assert await alert.evaluate("e => getComputedStyle(e).color") == "rgb(170, 0, 0)"
    assert first_party.rp.arrivals(request.state) == []

    # The form is there again, and the right password goes on.
    await tab.sign_in(person["username"])
    tab.back_at(request)


async def test_an_account_with_a_second_factor_gets_the_code_step(
    tab: Tab, api: httpx.AsyncClient, first_party: Application, person: dict
) -> None:
    headers = {"Authorization": await bearer(api, person["username"])}
    setup = await api.post(
        "/api/v1/auth/mfa/totp/setup", headers=headers, json={"current_password": PASSWORD}
    )
    totp = pyotp.TOTP(setup.json()["secret"])
    # Confirmed with the previous step's code, so the current one is still unused.
    confirmed = await api.post(
        "/api/v1/auth/mfa/totp/confirm", headers=headers, json={"code": totp.at(time.time() - 30)}
    )
    assert confirmed.status_code == 200, confirmed.text

    request = first_party.authorization()
    await tab.page.goto(request.address)
    await tab.sign_in(person["username"])
    assert await tab.page.title() == "Two-step verification"

    await tab.page.get_by_label("Code").fill("000000" if totp.now() != "000000" else "111111")
    await tab.submit("Verify")
    assert await tab.page.get_by_role("alert").inner_text() == "That code is not right."
    assert first_party.rp.arrivals(request.state) == []

    await tab.page.get_by_label("Code").fill(totp.now())
    await tab.submit("Verify")
    tab.back_at(request)


async def test_the_mailed_reset_link_sets_a_password_that_signs_in(
    tab: Tab,
    server: Server,
    api: httpx.AsyncClient,
    mail: MailCatcher,
    first_party: Application,
    person: dict,
) -> None:
    asked = await api.post("/api/v1/auth/password-reset/request", json={"email": person["email"]})
    assert asked.status_code == 202
    link = await mailed_link(mail, server, person["email"])
    assert link.startswith(f"{server.url}/reset-password?token=")

    await tab.page.goto(link)
    assert await tab.page.title() == "Choose a new password"
    new_password = "a brand new passphrase 42"
    await tab.page.get_by_label("New password").fill(new_password)
    await tab.submit("Set password")
    assert "Your password is changed." in await tab.text()

    request = first_party.authorization()
    await tab.page.goto(request.address)
    await tab.sign_in(person["username"], PASSWORD)
    assert await tab.page.get_by_role("alert").inner_text() == "Wrong username or password."
    await tab.sign_in(person["username"], new_password)
    tab.back_at(request)

    # The form spent the link.
    await tab.page.goto(link)
    await tab.page.get_by_label("New password").fill("yet another passphrase 43")
    await tab.submit("Set password")
    assert "This link is invalid or has expired." in await tab.text()


async def test_the_mailed_verification_link_confirms_the_address(
    tab: Tab, server: Server, api: httpx.AsyncClient, mail: MailCatcher, person: dict
) -> None:
    headers = {"Authorization": await bearer(api, person["username"])}
    assert (await api.post("/api/v1/auth/verify-email/request", headers=headers)).status_code == 202
    link = await mailed_link(mail, server, person["email"])
    assert link.startswith(f"{server.url}/verify-email?token=")

    await tab.page.goto(link)
    assert await tab.page.title() == "Confirm your email address"
    # Opening the link confirms nothing (mail scanners open links too): the button does.
    assert (await api.get("/api/v1/auth/me", headers=headers)).json()["is_verified"] is False
    await tab.submit("Confirm my email address")
    assert "your email address is confirmed" in await tab.text()
    assert (await api.get("/api/v1/auth/me", headers=headers)).json()["is_verified"] is True


async def test_signing_out_ends_the_browsers_sign_in(
    tab: Tab, server: Server, first_party: Application, person: dict
) -> None:
    request = first_party.authorization()
    await tab.page.goto(request.address)
    await tab.sign_in(person["username"])
    tab.back_at(request)

    # RP-initiated logout without an id_token_hint: the person confirms, then goes back
    # to the application's registered address with its state.
    await tab.page.goto(
        f"{server.url}/oauth2/logout?client_id={first_party.client_id}"
        f"&post_logout_redirect_uri={first_party.rp.after_logout}&state=bye"
    )
    assert await tab.page.title() == "Sign out"
    assert "Do you want to sign out?" in await tab.text()
    await tab.submit("Sign out")
    assert tab.page.url == f"{first_party.rp.after_logout}?state=bye"

    # Signed out: the next authorization asks for the password again.
    again = first_party.authorization()
    await tab.page.goto(again.address)
    assert await tab.page.title() == "Sign in"
    assert first_party.rp.arrivals(again.state) == []

    # Without a return address the page itself says so.
    await tab.page.goto(f"{server.url}/oauth2/logout")
    await tab.submit("Sign out")
    assert await tab.page.title() == "Signed out"
    assert "You are signed out." in await tab.text()


async def test_the_pages_run_no_injected_script(tab: Tab, server: Server) -> None:
    """The CSP is enforced, and the console watch sees its violations (so a clean
    console elsewhere means something)."""
    from playwright.async_api import Error

    await tab.page.goto(f"{server.url}/oauth2/logout")
    with pytest.raises(Error, match=r"violates the following Content Security Policy"):
        await tab.page.add_script_tag(content="document.title = 'owned'")
    assert await tab.page.title() == "Sign out"
    assert any("Content Security Policy" in problem for problem in tab.problems)
    tab.problems.clear()  # seen and expected: not a failure of this test
