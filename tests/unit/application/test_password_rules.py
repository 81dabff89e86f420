"""PasswordRules: length bounds, then not built on the user's own name or email, then not a
common password, in that order, naming the field the password came from."""

import pytest

from adapters.memory.password_blocklist import InMemoryPasswordBlocklist
from application.identity.passwords import PasswordRules
from domain.common.errors import WeakPasswordError
from domain.identity.password_policy import PasswordPolicy

EMAIL, USERNAME = "grace.hopper@navy.example", "ghopper"


@pytest.fixture
def rules() -> PasswordRules:
    return PasswordRules(
        PasswordPolicy(min_length=10, max_length=40),
        InMemoryPasswordBlocklist(["password123", "letmeinplease"]),
    )


def check(rules: PasswordRules, password: str, **extra: str) -> None:
    rules.check(password, email=EMAIL, username=USERNAME, **extra)


@pytest.mark.parametrize("password", ["a" * 10, "a fine long", "x" * 40, "ñ" * 10])
def test_acceptable_passwords_pass(rules: PasswordRules, password: str) -> None:
    check(rules, password)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("a" * 9, "at least 10"),
        ("a" * 41, "at most 40"),
        ("my ghopper pw", "username or email"),
        ("MY GHOPPER PW", "username or email"),
        ("Grace.Hopper!!", "username or email"),
        ("x grace.hopper@navy.example", "username or email"),
        ("ghopper2024!", "username or email"),
        ("ghopper password123", "too common"),
        ("password123", "too common"),
        ("  LetMeInPlease ", "too common"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(
    rules: PasswordRules, password: str, message: str
) -> None:
    with pytest.raises(WeakPasswordError, match=message) as caught:
        check(rules, password)
    assert caught.value.code == "validation_error"
    assert caught.value.field == "password"


def test_the_error_names_the_field_it_was_given(rules: PasswordRules) -> None:
    with pytest.raises(WeakPasswordError) as caught:
        check(rules, "password123", field="new_password")
    assert caught.value.field == "new_password"


def test_length_is_checked_before_anything_else(rules: PasswordRules) -> None:
    with pytest.raises(WeakPasswordError, match="at least"):
        check(rules, "ghopper")


def test_names_shorter_than_three_characters_are_not_searched_for() -> None:
    rules = PasswordRules(PasswordPolicy(), InMemoryPasswordBlocklist([]))
    # Searching for "al" or "jo" would refuse half the dictionary; "jov" counts.
    rules.check("jo-al-2024!", email="jo@example.com", username="al")
    with pytest.raises(WeakPasswordError):
        rules.check("jov-2024!x", email="jov@example.com", username="al")


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("admin", "Admin of the violet harbor"),
        ("admin", "administrator lantern"),
        ("ghopper", "ghopper sails the violet harbor"),
    ],
)
def test_a_name_inside_a_passphrase_that_stands_without_it_is_accepted(
    rules: PasswordRules, username: str, password: str
) -> None:
    # What is left without the name is long enough on its own: the name is no weakness.
    rules.check(password, email=EMAIL, username=username)


def test_the_policy_refuses_a_floor_below_eight() -> None:
    with pytest.raises(ValueError, match="min_length"):
        PasswordPolicy(min_length=7)
    with pytest.raises(ValueError, match="min_length"):
        PasswordPolicy(min_length=12, max_length=10)
