"""One mailbox, one account: the Unicode and IDNA spellings of an address are the same
address for registration, login, profile changes and administration, on every backend
(the SQL unique constraint is the last word, so SQLite and Postgres both run)."""

import itertools
import unicodedata

import httpx
import pytest

from tests.integration.http.helpers import PASSWORD, bearer, login, register

_names = itertools.count()


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _username() -> str:
    return f"mailbox{next(_names)}"


async def _register(client: httpx.AsyncClient, email: str) -> httpx.Response:
    body = {"email": email, "username": _username(), "password": PASSWORD}
    return await client.post("/api/v1/auth/register", json=body)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (_nfc("jürgen@example.com"), _nfd("jürgen@example.com")),
        (_nfd("jürgen@example.com"), _nfc("JÜRGEN@example.com")),
        ("ada@bücher.example", "ada@xn--bcher-kva.example"),
        ("ada@xn--bcher-kva.example", "ADA@BÜCHER.EXAMPLE."),
    ],
    ids=["nfc-then-nfd", "nfd-then-nfc-upper", "unicode-then-punycode", "punycode-then-fqdn"],
)
async def test_a_second_spelling_of_a_registered_mailbox_is_a_conflict(
    client: httpx.AsyncClient, first: str, second: str
) -> None:
    created = await _register(client, first)
    assert created.status_code == 201, created.text
    again = await _register(client, second)
    assert again.status_code == 409, again.text
    assert again.json()["error"] == "conflict"


async def test_the_account_shows_and_answers_to_the_canonical_address(
    client: httpx.AsyncClient,
) -> None:
    created = await _register(client, _nfd("Zoë@XN--BCHER-KVA.example"))
    assert created.status_code == 201, created.text
    assert created.json()["email"] == _nfc("zoë@bücher.example")

    for typed in (
        _nfc("zoë@bücher.example"),
        _nfd("ZOË@bücher.example"),
        "zo\u00eb@xn--bcher-kva.example.",
    ):
        tokens = await login(client, typed)
        me = await client.get("/api/v1/auth/me", headers=bearer(tokens))
        assert me.json()["id"] == created.json()["id"], typed


async def test_quoted_or_odd_addresses_are_refused_with_a_reason(
    client: httpx.AsyncClient,
) -> None:
    for email in ('"ada lovelace"@example.com', "ada@[192.0.2.1]", "ada@example.invalid"):
        refused = await _register(client, email)
        assert refused.status_code == 422, (email, refused.text)
        (detail,) = refused.json()["details"]
        assert detail["loc"] == ["body", "email"]
        assert detail["msg"].startswith("not a valid email address: ")


async def test_changing_to_another_spelling_of_a_taken_address_is_a_conflict(
    api: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await register(api, email=_nfc("renée@example.com"))
    other = await register(api)

    moved = await api.patch(
        f"/api/v1/users/{other['id']}", headers=admin, json={"email": _nfd("Renée@example.com")}
    )
    assert moved.status_code == 409, moved.text
    # Its own address in another spelling is no change at all.
    same = await api.patch(
        f"/api/v1/users/{other['id']}", headers=admin, json={"email": other["email"].upper()}
    )
    assert same.status_code == 200, same.text
    assert same.json()["email"] == other["email"]
