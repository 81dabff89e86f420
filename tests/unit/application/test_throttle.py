"""Rate limits as the use cases apply them: logins per account and per client address,
registrations per address, reset requests per address and per email."""

import unicodedata
from collections.abc import Callable

import pytest

from application.errors import InvalidCredentialsError, RateLimitedError
from application.identity.attempts import LoginPolicy
from application.identity.throttle import Rate, ThrottlePolicy
from tests.unit.application.conftest import App
from tests.unit.application.steps import audit_rows

WIDE = Rate(1000, 60)


def throttled(
    make_app: Callable[..., App],
    *,
    login_per_account: Rate = WIDE,
    login_per_client: Rate = WIDE,
    register_per_client: Rate = WIDE,
    reset_per_client: Rate = WIDE,
    reset_per_email: Rate = WIDE,
    reset_per_email_client: Rate = WIDE,
) -> App:
    """An app whose throttle is on, every limit wide but the ones given; lockout far off."""
    policy = ThrottlePolicy(
        login_per_account=login_per_account,
        login_per_client=login_per_client,
        register_per_client=register_per_client,
        reset_per_client=reset_per_client,
        reset_per_email=reset_per_email,
        reset_per_email_client=reset_per_email_client,
    )
    return make_app(throttle_policy=policy, login_policy=LoginPolicy(lockout_threshold=1000))


async def test_logins_over_the_account_limit_are_refused_before_any_hash(
    make_app: Callable[..., App],
) -> None:
    app = throttled(make_app, login_per_account=Rate(2, 60))
    await app.sign_up("ada")
    await app.log_in_as("ada")
    await app.log_in_as("ADA ")  # the same account name, however it is spelled
    work = app.hasher.hash_work

    with pytest.raises(RateLimitedError) as caught:
        await app.log_in_as("ada")

    error = caught.value
    assert error.code == "rate_limited"
    assert (error.limit, error.remaining, error.retry_after) == (2, 0, 30)
    assert error.reset_seconds == 60
    assert app.hasher.hash_work == work, "a throttled attempt costs no hash"


async def test_the_account_budget_refills_with_time(make_app: Callable[..., App]) -> None:
    app = throttled(make_app, login_per_account=Rate(2, 60))
    await app.sign_up("ada")
    for _ in range(2):
        with pytest.raises(InvalidCredentialsError):
            await app.log_in_as("ada", password="wrong password")
    with pytest.raises(RateLimitedError) as caught:
        await app.log_in_as("ada")
    app.clock.advance(seconds=caught.value.retry_after - 1)
    with pytest.raises(RateLimitedError):
        await app.log_in_as("ada")
    app.clock.advance(seconds=1)
    await app.log_in_as("ada")


async def test_one_account_throttled_leaves_the_others_alone(
    make_app: Callable[..., App],
) -> None:
    app = throttled(make_app, login_per_account=Rate(1, 60))
    await app.sign_up("ada")
    await app.sign_up("bob")
    await app.log_in_as("ada")
    with pytest.raises(RateLimitedError):
        await app.log_in_as("ada")
    await app.log_in_as("bob")


async def test_one_address_is_limited_across_accounts(make_app: Callable[..., App]) -> None:
    app = throttled(make_app, login_per_client=Rate(3, 60))
    for name in ("ada", "bob", "cyd", "dee"):
        await app.sign_up(name)
    for name in ("ada", "bob", "cyd"):
        await app.log_in_as(name)
    with pytest.raises(RateLimitedError) as caught:
        await app.log_in_as("dee")
    assert caught.value.limit == 3
    assert caught.value.retry_after == 20

    # Another address has a budget of its own.
    app.context.meta = type(app.context.meta)(ip="198.51.100.1")
    await app.log_in_as("dee")


async def test_registrations_are_limited_per_address(make_app: Callable[..., App]) -> None:
    app = throttled(make_app, register_per_client=Rate(2, 3600))
    await app.sign_up("ada")
    await app.sign_up("bob")
    with pytest.raises(RateLimitedError) as caught:
        await app.sign_up("cyd")
    assert (caught.value.limit, caught.value.remaining, caught.value.retry_after) == (2, 0, 1800)
    assert app.hasher.calls["hash"] == 2, "a throttled registration costs no hash"
    assert len(await audit_rows(app, action="user.registered")) == 2


async def test_reset_requests_are_limited_per_email_whatever_its_case(
    make_app: Callable[..., App],
) -> None:
    app = throttled(make_app, reset_per_email=Rate(2, 3600))
    await app.request_password_reset.admit("ada@example.com")
    await app.request_password_reset.admit(" ADA@example.com")
    with pytest.raises(RateLimitedError) as caught:
        await app.request_password_reset.admit("Ada@Example.com")
    assert (caught.value.limit, caught.value.retry_after) == (2, 1800)
    await app.request_password_reset.admit("bob@example.com")


async def test_every_spelling_of_a_mailbox_shares_its_reset_budget(
    make_app: Callable[..., App],
) -> None:
    app = throttled(make_app, reset_per_email=Rate(2, 3600))
    await app.request_password_reset.admit(unicodedata.normalize("NFC", "zoë@bücher.example"))
    await app.request_password_reset.admit(unicodedata.normalize("NFD", "zoë@bücher.example"))
    with pytest.raises(RateLimitedError):
        await app.request_password_reset.admit("ZOË@xn--bcher-kva.example.")


async def test_reset_requests_are_limited_per_address(make_app: Callable[..., App]) -> None:
    app = throttled(make_app, reset_per_client=Rate(2, 3600))
    await app.request_password_reset.admit("a@example.com")
    await app.request_password_reset.admit("b@example.com")
    with pytest.raises(RateLimitedError):
        await app.request_password_reset.admit("c@example.com")


async def test_a_disabled_throttle_never_refuses(make_app: Callable[..., App]) -> None:
    one = Rate(1, 3600)
    app = make_app(
        throttle_policy=ThrottlePolicy(
            enabled=False,
            login_per_account=one,
            login_per_client=one,
            register_per_client=one,
            reset_per_client=one,
            reset_per_email=one,
        )
    )
    for name in ("ada", "bob", "cyd"):
        await app.sign_up(name)
    for _ in range(5):
        await app.log_in_as("ada")
        await app.request_password_reset.admit("ada@example.com")
