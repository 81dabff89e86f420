"""EmailNormaliser: every spelling of one mailbox comes out as one address, and addresses
that cannot be delivered to as written are refused with a reason."""

import unicodedata

import pytest

from adapters.emails.normaliser import EmailValidatorNormaliser
from application.ports.email_normaliser import EmailNormaliser
from domain.common.errors import InvalidEmailError

NFC = unicodedata.normalize("NFC", "jürgen@example.com")
NFD = unicodedata.normalize("NFD", "jürgen@example.com")


@pytest.fixture(params=[EmailValidatorNormaliser], ids=["email-validator"])
def emails(request: pytest.FixtureRequest) -> EmailNormaliser:
    adapter: EmailNormaliser = request.param()
    return adapter


@pytest.mark.parametrize(
    ("spellings", "canonical"),
    [
        ([NFC, NFD, "JÜRGEN@EXAMPLE.COM", f"  {NFD} "], NFC),
        (
            [
                "ada@bücher.example",
                "ada@xn--bcher-kva.example",
                "ada@BÜCHER.example",
                "ada@XN--BCHER-KVA.EXAMPLE",
                "ada@\uff42ücher.example",  # a full-width b in the domain (UTS #46 maps it)
                unicodedata.normalize("NFD", "ada@bücher.example"),
            ],
            "ada@bücher.example",
        ),
        (["Ada.Lovelace@Example.COM", "ada.lovelace@example.com."], "ada.lovelace@example.com"),
        (["ada+tag@example.com"], "ada+tag@example.com"),
    ],
)
def test_every_spelling_of_a_mailbox_is_one_address(
    emails: EmailNormaliser, spellings: list[str], canonical: str
) -> None:
    assert {emails.normalise(spelling).value for spelling in spellings} == {canonical}
    assert unicodedata.is_normalized("NFC", canonical)


@pytest.mark.parametrize(
    "raw",
    [
        NFC,
        "ada@bücher.example",
        "ada@example.com",
        "İstanbul@example.com",  # lower-cases to i + combining dot: still NFC after
        "σίσυφος@example.gr",
    ],
)
def test_normalising_twice_changes_nothing(emails: EmailNormaliser, raw: str) -> None:
    once = emails.normalise(raw).value
    assert emails.normalise(once).value == once
    assert unicodedata.is_normalized("NFC", once)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('"ada lovelace"@example.com', "Quoting"),
        ('"ada"@example.com', "Quoting"),
        ("ada@[192.0.2.1]", "bracketed IP"),
        ("Ada <ada@example.com>", "display name"),
        ("ada@example.invalid", "special-use"),
        ("ada@localhost", "period"),
        ("ada..lovelace@example.com", "two periods"),
        ("ada@example..com", "two periods"),
        ("ada@example.com..", "period"),
        ("ada@exa mple.com", "invalid characters"),
        ("ada\n@example.com", "invalid characters"),
        ("@example.com", "before the @-sign"),
        ("plainaddress", "@-sign"),
        ("a" * 65 + "@example.com", "too long"),
    ],
)
def test_unusual_or_undeliverable_addresses_are_refused_with_a_reason(
    emails: EmailNormaliser, raw: str, reason: str
) -> None:
    with pytest.raises(InvalidEmailError) as caught:
        emails.normalise(raw)
    assert caught.value.field == "email"
    assert reason.lower() in caught.value.message.lower()
