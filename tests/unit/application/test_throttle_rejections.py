"""The throttle tells a listener which budget refused a request, and only that."""

import dataclasses

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.memory.request_context import FixedRequestContext
from application.errors import RateLimitedError
from application.identity.throttle import Rate, Throttle, ThrottlePolicy
from application.ports.rejection_listener import LIMIT_NAMES, LimitName
from application.ports.request_context import RequestMeta

ONE = Rate(1, 60)


def throttle(
    rejections: list[LimitName],
    *,
    enabled: bool = True,
    ip: str = "203.0.113.7",
    limiter: InMemoryRateLimiter | None = None,
) -> Throttle:
    policy = ThrottlePolicy(
        enabled=enabled,
        login_per_account=ONE,
        login_per_client=ONE,
        register_per_client=ONE,
        reset_per_client=Rate(2, 60),
        reset_per_email=Rate(2, 60),
        reset_per_email_client=ONE,
        requests_per_client=ONE,
    )
    context = FixedRequestContext(RequestMeta(ip=ip))
    limiter = limiter or InMemoryRateLimiter(FixedClock())
    return Throttle(limiter, context, policy, rejections.append)


async def test_each_refusal_is_told_by_the_name_of_its_budget() -> None:
    rejections: list[LimitName] = []
    limiter = InMemoryRateLimiter(FixedClock())
    limits = throttle(rejections, limiter=limiter)

    await limits.login_account("ada")
    await limits.login_client()
    await limits.registration()
    await limits.request()
    await limits.password_reset("ada@example.com")
    assert rejections == [], "allowed hits are not reported"

    await limits.password_reset("bob@example.com")  # the client's second: allowed
    for refused in (
        lambda: limits.login_account("ADA"),
        limits.login_client,
        limits.registration,
        limits.request,
        lambda: limits.password_reset("cyd@example.com"),  # the client's third
        lambda: limits.mail_to("ada@example.com"),  # this client's second to ada
    ):
        with pytest.raises(RateLimitedError):
            await refused()
    # Other clients have budgets of their own for ada, until the ceiling over all.
    await throttle(rejections, limiter=limiter, ip="198.51.100.2").mail_to("ada@example.com")
    with pytest.raises(RateLimitedError):
        await throttle(rejections, limiter=limiter, ip="198.51.100.3").mail_to("ada@example.com")

    assert rejections == [
        "login_per_account",
        "login_per_client",
        "register_per_client",
        "requests_per_client",
        "reset_per_client",
        "reset_per_email_client",
        "reset_per_email",
    ]


async def test_a_disabled_throttle_reports_nothing() -> None:
    rejections: list[LimitName] = []
    limits = throttle(rejections, enabled=False)
    for _ in range(3):
        await limits.request()
    assert rejections == []


def test_every_budget_of_the_policy_has_a_name() -> None:
    budgets = {f.name for f in dataclasses.fields(ThrottlePolicy) if f.type in (Rate, "Rate")}
    assert set(LIMIT_NAMES) == budgets


async def test_the_refusal_still_reaches_the_caller() -> None:
    limits = throttle([])
    await limits.request()
    with pytest.raises(RateLimitedError):
        await limits.request()
