"""Password length bounds, and the roles and permissions an account can hold."""

import pytest

from domain.common.errors import WeakPasswordError
from domain.identity.password_policy import PasswordPolicy


def test_the_default_policy_accepts_8_to_128_characters() -> None:
    policy = PasswordPolicy()
    policy.check("x" * 8)
    policy.check("x" * 128)


@pytest.mark.parametrize(
    ("password", "message"),
    [("x" * 7, "at least 8"), ("", "at least 8"), ("x" * 129, "at most 128")],
)
def test_passwords_outside_the_bounds_are_refused(password: str, message: str) -> None:
    with pytest.raises(WeakPasswordError, match=message) as caught:
        PasswordPolicy().check(password)
    assert caught.value.field == "password"


def test_the_refusal_names_the_field_it_came_from() -> None:
    with pytest.raises(WeakPasswordError) as caught:
        PasswordPolicy().check("short", field="new_password")
    assert caught.value.field == "new_password"


def test_a_stricter_policy_applies_its_own_bounds() -> None:
    policy = PasswordPolicy(min_length=12, max_length=20)
    policy.check("x" * 12)
    with pytest.raises(WeakPasswordError, match="at least 12"):
        policy.check("x" * 11)
    with pytest.raises(WeakPasswordError, match="at most 20"):
        policy.check("x" * 21)


@pytest.mark.parametrize(("min_length", "max_length"), [(7, 128), (0, 128), (20, 19)])
def test_a_policy_below_the_floor_or_upside_down_cannot_be_built(
    min_length: int, max_length: int
) -> None:
    with pytest.raises(ValueError, match="min_length"):
        PasswordPolicy(min_length=min_length, max_length=max_length)
