"""Redis stops under HexaHub and comes back empty; the service degrades, never breaks.

Policy while Redis is down: caches fall through to the database, rate limits fall back to
in-process budgets, the revocation check falls back to the session rows, `/health/ready`
stays 200 but says `degraded`, naming the cache (so a load balancer keeps every replica);
nothing answers 500. When Redis returns, readiness is `ok` again within 30 s and
cross-instance cache invalidation works again. The two instances live
through every test of this module: none of this may need a restart.
"""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.faults.accounts import (
    TIMEOUT,
    bearer,
    eventually,
    log_in,
    login,
    me,
    refresh,
    sign_up,
    wait_until_ready,
)
from tests.faults.checks import (
    assert_503s_say_when_to_retry,
    assert_all_normal,
    assert_never_broken,
    assert_only,
    fully_served,
)
from tests.faults.conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from tests.faults.servers import ThrowawayRedis
from tests.faults.traffic import NORMAL, PASSWORD, Traffic

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

BASELINE_SECONDS = 2.0
OUTAGE_SECONDS = 4.0
RECOVERY_WITHIN = 30.0
STEADY_SECONDS = 2.0
# Pub/sub is asynchronous: the message may land a moment after A answers. Far below the
# local cache lifetime (CACHE_LOCAL_TTL_SECONDS, 30 s by default) that a missed
# invalidation would otherwise wait out.
AT_ONCE_SECONDS = 0.5

DURING_OUTAGE = {op: {status} for op, status in NORMAL.items()}

Pair = tuple[Server, Server]


@pytest.fixture
def pair(two_instances: Pair, fault_redis: ThrowawayRedis) -> Iterator[Pair]:
    """The module's two instances, Redis up at the start; neither restarted by the end."""
    pids = [server.pid for server in two_instances]
    yield two_instances
    assert [server.pid for server in two_instances] == pids, "an instance restarted or died"


async def test_redis_stopped_and_restarted_mid_traffic(
    pair: Pair, fault_redis: ThrowawayRedis
) -> None:
    server = pair[0]
    async with Traffic(server.url) as traffic:
        await asyncio.sleep(BASELINE_SECONDS)
        stopped = time.monotonic()
        await asyncio.to_thread(fault_redis.stop)
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(fault_redis.start)
        restarted = time.monotonic()
        recovered = await traffic.wait_for(
            "/health/ready back to ok after Redis returned",
            lambda: fully_served(traffic.since(restarted), ["ready"]),
            within=RECOVERY_WITHIN,
        )
        await asyncio.sleep(STEADY_SECONDS)

    assert_never_broken(traffic.outcomes, server.log())
    assert_503s_say_when_to_retry(traffic.outcomes)
    assert_all_normal(traffic.answered_before(stopped), "before the outage")
    outage = traffic.between(stopped, recovered)
    assert_only(outage, DURING_OUTAGE, "while Redis was down")

    degraded = [o for o in outage if o.op == "ready" and o.body["status"] == "degraded"]
    assert degraded, "/health/ready never said degraded while Redis was down"
    checks = degraded[-1].body["checks"]
    assert checks["cache"]["status"] != "ok", checks
    assert checks["database"]["status"] == "ok", checks

    assert_all_normal(traffic.since(recovered), "after Redis returned")


def test_login_limit_still_bites_while_redis_is_down(
    pair: Pair, fault_redis: ThrowawayRedis
) -> None:
    server = pair[0]
    user, _ = sign_up(server.url)  # the account's budget is 3 logins a minute
    fault_redis.stop()

    answers = [login(server.url, user["username"], PASSWORD) for _ in range(6)]

    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {200, 429}, statuses
    assert 200 in statuses, f"logins refused outright with Redis down: {statuses}"
    assert 429 in statuses, f"no login refused over a 3/60 budget with Redis down: {statuses}"
    refused = answers[statuses.index(429)]
    assert refused.json()["error"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1


def test_logout_while_redis_is_down_holds_then_and_after(
    pair: Pair, fault_redis: ThrowawayRedis
) -> None:
    first, second = pair
    _, tokens = sign_up(first.url)
    assert me(first.url, tokens) == 200
    assert me(second.url, tokens) == 200  # both instances have seen the session live
    fault_redis.stop()

    logout = httpx.post(f"{first.url}/api/v1/auth/logout", headers=bearer(tokens), timeout=TIMEOUT)
    assert logout.status_code == 204, logout.text
    for url in (first.url, second.url):
        assert me(url, tokens) == 401, f"revoked token accepted by {url} while Redis was down"
    assert refresh(second.url, tokens) == 401

    fault_redis.start()  # empty: it never heard of that logout
    wait_until_ready(first.url, second.url, within=RECOVERY_WITHIN)
    for url in (first.url, second.url):
        assert me(url, tokens) == 401, f"revoked token accepted by {url} after Redis returned"
    assert refresh(first.url, tokens) == 401


def test_changes_reach_the_other_instance_at_once_after_redis_returns(
    pair: Pair, fault_redis: ThrowawayRedis
) -> None:
    first, second = pair
    admin = bearer(log_in(first.url, ADMIN_USERNAME, ADMIN_PASSWORD))
    deactivated, deactivated_tokens = sign_up(first.url)
    promoted, promoted_tokens = sign_up(first.url)

    def list_users_on_second() -> int:
        url = f"{second.url}/api/v1/users"
        return httpx.get(url, headers=bearer(promoted_tokens), timeout=TIMEOUT).status_code

    def admin_on_first(method: str, path: str, body: dict[str, Any]) -> None:
        url = f"{first.url}/api/v1/users/{path}"
        answer = httpx.request(method, url, json=body, headers=admin, timeout=TIMEOUT)
        assert answer.status_code == 200, answer.text

    # The second instance has both users cached before the outage...
    assert me(second.url, deactivated_tokens) == 200
    assert list_users_on_second() == 403
    # ...keeps serving them from the database while Redis is gone...
    fault_redis.stop()
    assert me(second.url, deactivated_tokens) == 200
    assert list_users_on_second() == 403
    fault_redis.start()
    wait_until_ready(first.url, second.url, within=RECOVERY_WITHIN)

    # ...and after Redis returns, hears of each change made on the first at once.
    admin_on_first("PUT", f"{promoted['id']}/roles", {"roles": ["auditor"]})
    assert eventually(list_users_on_second, 200, AT_ONCE_SECONDS) == 200
    admin_on_first("PUT", f"{promoted['id']}/roles", {"roles": ["user"]})
    assert eventually(list_users_on_second, 403, AT_ONCE_SECONDS) == 403
    admin_on_first("PATCH", deactivated["id"], {"is_active": False})
    assert eventually(lambda: me(second.url, deactivated_tokens), 401, AT_ONCE_SECONDS) == 401
