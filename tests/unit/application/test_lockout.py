"""Login lockout: N wrong passwords in a row lock the account for a period that doubles,
locks end by themselves or by an administrator, and however many guesses arrive at once,
at most N of them are ever checked against the password hash."""

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from dependency_injector import providers

from adapters.redis.client import create_redis_client
from adapters.redis.rate_limiter import RedisRateLimiter
from application.errors import EmailNotVerifiedError, HasherBusyError, InvalidCredentialsError
from application.identity.attempts import LoginPolicy
from application.identity.throttle import Rate, ThrottlePolicy
from application.identity.use_cases.log_in import LogIn, LogInCommand
from application.identity.use_cases.update_user import UpdateUserCommand
from domain.audit.entries import Outcome
from tests.unit.application.conftest import PASSWORD, App
from tests.unit.application.fakes import CountingPasswordHasher, YieldingPasswordHasher
from tests.unit.application.steps import audit_rows

WRONG = "not the password"
BASE = timedelta(minutes=1)


def policy(threshold: int = 3, **extra: Any) -> LoginPolicy:
    return LoginPolicy(lockout_threshold=threshold, lockout_base=BASE, **extra)


async def fail(app: App, login: str, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentialsError):
            await app.log_in_as(login, password=WRONG)


async def refused_with_the_right_password(app: App, login: str) -> None:
    with pytest.raises(InvalidCredentialsError) as caught:
        await app.log_in_as(login)
    assert caught.value.code == "invalid_credentials"


# --- locking --------------------------------------------------------------------------------


async def test_n_wrong_passwords_lock_the_account_even_against_the_right_one(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3))
    await app.sign_up("ada")
    await fail(app, "ada", 2)
    await app.log_in_as("ada")  # two failures do not lock
    await fail(app, "ada", 3)

    before = app.hasher.calls.copy()
    await refused_with_the_right_password(app, "ada")
    await refused_with_the_right_password(app, "ada@example.com")

    assert app.hasher.calls["verify"] == before["verify"], "a locked account is not checked"
    assert app.hasher.calls["verify_dummy"] == before["verify_dummy"] + 2, "but costs a hash"


async def test_a_lock_is_audited_with_its_end(make_app: Callable[..., App]) -> None:
    app = make_app(login_policy=policy(3))
    ada = await app.sign_up("ada")
    await fail(app, "ada", 3)

    [row] = await audit_rows(app, action="account.locked")
    until = app.clock.now() + BASE
    assert (row.target_id, row.actor_id, row.outcome) == (str(ada.id), None, Outcome.SUCCESS)
    assert row.details == {"until": until.isoformat()}
    assert row.ip == "203.0.113.7"
    failures = await audit_rows(app, action="auth.login", target_id=str(ada.id))
    assert [f.outcome for f in failures] == [Outcome.FAILURE] * 3
    stored = await app.stored_user(ada.id)
    assert stored is not None
    assert stored.locked_until == until


async def test_guesses_during_a_lock_neither_extend_nor_relock_it(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3))
    ada = await app.sign_up("ada")
    await fail(app, "ada", 3)
    until = app.clock.now() + BASE
    app.clock.advance(seconds=30)
    await fail(app, "ada", 10)
    stored = await app.stored_user(ada.id)
    assert stored is not None
    assert stored.locked_until == until
    assert len(await audit_rows(app, action="account.locked")) == 1


async def test_a_lock_ends_by_itself(make_app: Callable[..., App]) -> None:
    app = make_app(login_policy=policy(3))
    await app.sign_up("ada")
    await fail(app, "ada", 3)
    app.clock.advance(BASE - timedelta(seconds=1))
    await refused_with_the_right_password(app, "ada")
    app.clock.advance(seconds=1)
    pair = await app.log_in_as("ada")
    assert (await app.principal_for(pair)).user.username.value == "ada"


async def test_each_lock_lasts_twice_as_long_as_the_one_before(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3, lockout_ceiling=timedelta(minutes=3)))
    ada = await app.sign_up("ada")
    periods = []
    for _ in range(4):
        await fail(app, "ada", 3)
        stored = await app.stored_user(ada.id)
        assert stored is not None
        assert stored.locked_until is not None
        periods.append(stored.locked_until - app.clock.now())
        app.clock.set(stored.locked_until)

    # Doubling, then held at the ceiling.
    assert periods == [BASE, 2 * BASE, timedelta(minutes=3), timedelta(minutes=3)]


async def test_the_second_lock_holds_for_its_whole_doubled_period(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3))
    await app.sign_up("ada")
    await fail(app, "ada", 3)
    app.clock.advance(BASE)
    await fail(app, "ada", 3)
    app.clock.advance(2 * BASE - timedelta(seconds=1))
    await refused_with_the_right_password(app, "ada")
    app.clock.advance(seconds=1)
    await app.log_in_as("ada")


async def test_a_success_resets_the_count_and_the_doubling(make_app: Callable[..., App]) -> None:
    app = make_app(login_policy=policy(3))
    ada = await app.sign_up("ada")
    await fail(app, "ada", 3)
    app.clock.advance(BASE)
    await app.log_in_as("ada")

    await fail(app, "ada", 2)
    await app.log_in_as("ada")
    await fail(app, "ada", 2)
    await app.log_in_as("ada")  # 4 failures in all, never 3 in a row
    await fail(app, "ada", 3)
    stored = await app.stored_user(ada.id)
    assert stored is not None
    assert stored.locked_until == app.clock.now() + BASE, "back to the base period"


async def test_a_lock_on_one_account_leaves_the_others_alone(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3))
    await app.sign_up("ada")
    await app.sign_up("bob")
    await fail(app, "ada", 3)
    await app.log_in_as("bob")
    await refused_with_the_right_password(app, "ada")


async def test_an_unknown_account_is_never_locked_and_always_costs_a_hash(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3))
    for _ in range(5):
        with pytest.raises(InvalidCredentialsError):
            await app.log_in_as("ghost", password=WRONG)
    assert app.hasher.calls["verify_dummy"] == 5
    assert await audit_rows(app, action="account.locked") == []


# --- at most N checks, however many guesses at once ----------------------------------------


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limiter_backend(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    if request.param == "redis":
        return (
            "redis",
            request.getfixturevalue("redis_server_url"),
            request.getfixturevalue("redis_prefix"),
        )
    return ("memory", "", "")


@dataclass
class Guessing:
    app: App
    log_in: LogIn
    hasher: CountingPasswordHasher


@pytest.fixture
async def guessing(
    make_app: Callable[..., App], limiter_backend: tuple[str, str, str]
) -> AsyncIterator[Guessing]:
    """LogIn with lockout at 10 and the throttle on, with limits far above 50, on the
    in-memory or the Redis rate limiter."""
    hasher = YieldingPasswordHasher()
    generous = ThrottlePolicy(login_per_account=Rate(1000, 60), login_per_client=Rate(1000, 60))
    app = make_app(
        hasher=hasher, login_policy=LoginPolicy(lockout_threshold=10), throttle_policy=generous
    )
    kind, url, prefix = limiter_backend
    client = create_redis_client(url) if kind == "redis" else None
    if client is not None:
        app.container.rate_limiter.override(providers.Object(RedisRateLimiter(client, prefix)))
    try:
        yield Guessing(app, app.log_in, hasher)
    finally:
        if client is not None:
            keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()


async def test_fifty_guesses_at_once_get_at_most_ten_password_checks(
    guessing: Guessing,
) -> None:
    app, hasher = guessing.app, guessing.hasher
    ada = await app.sign_up("ada")

    results = await asyncio.gather(
        *(
            guessing.log_in.execute(LogInCommand(login="ada", password=f"guess {i}"))
            for i in range(50)
        ),
        return_exceptions=True,
    )

    assert all(isinstance(r, InvalidCredentialsError) for r in results), results
    assert hasher.calls["verify"] <= 10
    assert hasher.hash_work == 50, "every refused guess still costs one hash"
    stored = await app.stored_user(ada.id)
    assert stored is not None
    assert stored.is_locked(app.clock.now())
    assert len(await audit_rows(app, action="account.locked")) == 1
    with pytest.raises(InvalidCredentialsError):
        await guessing.log_in.execute(LogInCommand(login="ada", password=PASSWORD))


# --- REQUIRE_VERIFIED_EMAIL ----------------------------------------------------------------


async def test_an_unverified_account_is_told_to_verify_only_after_the_right_password(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3, require_verified_email=True))
    ada = await app.sign_up("ada")
    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as("ada", password=WRONG)
    with pytest.raises(EmailNotVerifiedError) as caught:
        await app.log_in_as("ada")
    assert caught.value.code == "email_not_verified"
    async with app.uow() as uow:
        assert await uow.sessions.list_active_for_user(ada.id, now=app.clock.now()) == []


async def test_a_right_password_on_an_unverified_account_does_not_count_towards_a_lock(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3, require_verified_email=True))
    admin = await app.admin()
    ada = await app.sign_up("ada")
    await fail(app, "ada", 2)
    for _ in range(3):
        with pytest.raises(EmailNotVerifiedError):
            await app.log_in_as("ada")
    await fail(app, "ada", 2)  # the count restarted at the right password
    await app.update_user.execute(admin, ada.id, UpdateUserCommand(is_verified=True))

    pair = await app.log_in_as("ada")
    assert (await app.principal_for(pair)).user_id == ada.id
    assert await audit_rows(app, action="account.locked") == []


async def test_verified_accounts_log_in_when_verification_is_required(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3, require_verified_email=True))
    admin = await app.admin()  # the bootstrap administrator is verified
    assert admin.user.is_verified


# --- attempts that end in neither a wrong password nor a session ---------------------------

# log_in.py reserves an attempt (failed_logins += 1) before the hash check, and only two
# outcomes settle it: a wrong password (`_fail(attempt=...)`, which locks at the
# threshold) or a session (`record_login` resets the count). A right password on an
# inactive account (`_fail(user)` without the attempt, and no `_clear_failures`) and a
# hash check that raises (HasherBusyError under load) leave the reservation standing.
# Once `lockout_threshold` of them pile up, `reserve_login_attempt` refuses every later
# attempt, yet no lock was set: no `account.locked` row, no `locked_until`, nothing that
# ever expires. The account is shut out until an administrator unlocks it.


async def test_right_passwords_while_deactivated_do_not_shut_the_account_out_for_good(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3))
    admin = await app.admin()
    ada = await app.sign_up("ada")
    await app.update_user.execute(admin, ada.id, UpdateUserCommand(is_active=False))
    for _ in range(3):  # ada, suspended, keeps trying her right password
        await refused_with_the_right_password(app, "ada")
    await app.update_user.execute(admin, ada.id, UpdateUserCommand(is_active=True))
    app.clock.advance(timedelta(days=1))

    pair = await app.log_in_as("ada")
    assert (await app.principal_for(pair)).user_id == ada.id


async def test_a_busy_hasher_does_not_count_towards_a_lockout(
    make_app: Callable[..., App],
) -> None:
    app = make_app(login_policy=policy(3))
    await app.sign_up("ada")

    async def busy() -> None:
        raise HasherBusyError()

    for _ in range(3):
        app.hasher.during_verify = busy
        with pytest.raises(HasherBusyError):
            await app.log_in_as("ada")
    app.clock.advance(timedelta(days=1))

    await app.log_in_as("ada")
