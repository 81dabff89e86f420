"""Value objects validate and normalise themselves on construction."""

import pytest

from domain.common.errors import (
    InvalidEmailError,
    InvalidFullNameError,
    InvalidUsernameError,
    InvalidValueError,
)
from domain.identity.value_objects import Email, FullName, Username


def test_an_email_is_trimmed_and_lower_cased() -> None:
    email = Email("  Alice.Smith@Example.COM ")
    assert email.value == "alice.smith@example.com"
    assert str(email) == "alice.smith@example.com"


def test_emails_that_differ_only_in_case_are_equal() -> None:
    assert Email("Bob@example.com") == Email("bob@EXAMPLE.com")
    assert len({Email("Bob@example.com"), Email("bob@example.com")}) == 1


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plainaddress",
        "no-at.example.com",
        "two@@example.com",
        "a@b@example.com",
        "user@localhost",
        "us er@example.com",
        "user@exa mple.com",
        "@example.com",
        "user@",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_malformed_or_oversized_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidEmailError) as caught:
        Email(raw)
    assert caught.value.field == "email"
    assert caught.value.code == "validation_error"


def test_email_length_limits_are_inclusive() -> None:
    local = "a" * 64
    assert Email(f"{local}@example.com").value.startswith(local)
    domain = "b" * (254 - len("x@") - len(".com")) + ".com"
    assert len(Email(f"x@{domain}").value) == 254


def test_a_username_is_trimmed_and_lower_cased() -> None:
    assert Username("  Alice_01 ").value == "alice_01"
    assert Username("Alice") == Username("alice")
    assert str(Username("carol.d-e")) == "carol.d-e"


@pytest.mark.parametrize("raw", ["abc", "a.b", "x" * 32, "1-2", "a_b.c-d9"])
def test_usernames_within_the_rules_are_accepted(raw: str) -> None:
    assert Username(raw).value == raw


@pytest.mark.parametrize(
    "raw",
    [
        "ab",
        "x" * 33,
        "_abc",
        "abc-",
        ".abc",
        "ali ce",
        "alice@example.com",
        "ali+ce",
        "élodie",
        "",
    ],
)
def test_usernames_breaking_the_rules_are_refused(raw: str) -> None:
    with pytest.raises(InvalidUsernameError) as caught:
        Username(raw)
    assert caught.value.field == "username"


def test_a_full_name_keeps_its_case_and_loses_surrounding_space() -> None:
    assert FullName("  Ada Lovelace ").value == "Ada Lovelace"
    assert str(FullName("Ada")) == "Ada"
    assert len(FullName("x" * 128).value) == 128


@pytest.mark.parametrize("raw", ["x" * 129, "Ada\nLovelace", "Ada\x00", "tab\there"])
def test_overlong_or_unprintable_full_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidFullNameError) as caught:
        FullName(raw)
    assert caught.value.field == "full_name"


def test_value_objects_are_immutable() -> None:
    email = Email("a@example.com")
    with pytest.raises(AttributeError):
        email.value = "b@example.com"  # type: ignore[misc]


def test_invalid_value_errors_carry_a_message_and_an_optional_field() -> None:
    error = InvalidValueError("bad input", field="nickname")
    assert (error.message, error.field, str(error)) == ("bad input", "nickname", "bad input")
    assert InvalidValueError("bad input").field == "value"
