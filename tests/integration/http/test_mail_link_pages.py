"""The links in the mails open working pages: a person opens the link from the mail a
real SMTP server received, presses the button (or types a new password), and it is
done; a second use of the link, or a form without our CSRF token, is refused."""

import asyncio
import re
from typing import Any
from urllib.parse import urlsplit

from tests.integration.http.browser import Browser
from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import bearer, login, registered_and_logged_in
from tests.integration.http.test_mail_flows import smtp_settings
from tests.integration.http.test_openid_provider import transport_of
from tests.mail_catcher import MailCatcher

LINK = re.compile(r"https://id\.example\.test(/[a-z-]+\?token=\S+)")


async def mailed_link(catcher: MailCatcher, to: str, count: int) -> str:
    for _ in range(100):
        mails = [m for m in catcher.messages if m["To"] == to]
        if len(mails) >= count:
            match = LINK.search(mails[count - 1].get_content())
            assert match, mails[count - 1].get_content()
            return match.group(1)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no mail #{count} to {to}")


async def test_the_mailed_verification_link_confirms_the_address(
    app_factory: AppFactory, backend: dict[str, Any], mail_catcher: MailCatcher
) -> None:
    api = await app_factory(**smtp_settings(mail_catcher, backend))
    user, tokens = await registered_and_logged_in(api)
    assert (
        await api.post("/api/v1/auth/verify-email/request", headers=bearer(tokens))
    ).status_code == 202
    link = await mailed_link(mail_catcher, user["email"], 1)
    assert urlsplit(link).path == "/verify-email"

    browser = Browser(transport_of(api))
    page = await browser.go(link)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # Opening the link spends nothing (mail scanners open links too).
    assert (await api.get("/api/v1/auth/me", headers=bearer(tokens))).json()["is_verified"] is False
    done = await browser.submit(page)
    assert done.status_code == 200
    assert "confirmed" in done.text
    assert (await api.get("/api/v1/auth/me", headers=bearer(tokens))).json()["is_verified"] is True

    again = await browser.submit(await browser.go(link))
    assert again.status_code == 400
    assert "invalid or has expired" in again.text
    await browser.aclose()


async def test_the_mailed_reset_link_sets_a_new_password(
    app_factory: AppFactory, backend: dict[str, Any], mail_catcher: MailCatcher
) -> None:
    api = await app_factory(**smtp_settings(mail_catcher, backend))
    user, _ = await registered_and_logged_in(api)
    await api.post("/api/v1/auth/password-reset/request", json={"email": user["email"]})
    link = await mailed_link(mail_catcher, user["email"], 1)
    assert urlsplit(link).path == "/reset-password"

    browser = Browser(transport_of(api))
    page = await browser.go(link)
    assert page.status_code == 200
    stranger = Browser(transport_of(api))  # a form posted from another site
    forged = await stranger.http.post(
        "/reset-password", data={"token": "x", "new_password": "p" * 20, "csrf_token": "x"}
    )
    await stranger.aclose()
    assert forged.status_code == 403

    weak = await browser.submit(page, new_password="short")
    assert weak.status_code == 422  # the password rule, shown on the page; link not spent
    new_password = "a brand new passphrase 42"
    done = await browser.submit(page, new_password=new_password)
    assert done.status_code == 200, done.text
    await login(api, user["username"], new_password)
    reused = await browser.submit(page, new_password="another new passphrase 43")
    assert reused.status_code == 400
    await browser.aclose()
