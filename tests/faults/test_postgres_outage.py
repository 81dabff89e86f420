"""PostgreSQL stops under traffic and comes back; HexaHub rides it out by itself.

Policy: while the database is down, requests that need it get 503 `service_unavailable`
with Retry-After, the first within 5 s and each fast (a circuit breaker); `/health` stays
200 and `/health/ready` says 503 naming the database; nothing answers 500 and no
connection drops. When the database returns, service resumes within 30 s, and the
process was never restarted.
"""

import asyncio
import time
from collections.abc import Callable

import pytest

from tests.e2e.conftest import Server
from tests.faults.checks import (
    assert_503s_say_when_to_retry,
    assert_all_normal,
    assert_never_broken,
    assert_only,
    fully_served,
)
from tests.faults.servers import ThrowawayPostgres
from tests.faults.traffic import NEEDS_DATABASE, NORMAL, Traffic

pytestmark = [pytest.mark.faults, pytest.mark.e2e]

BASELINE_SECONDS = 2.0
OUTAGE_SECONDS = 5.0
FIRST_503_WITHIN = 5.0
ANSWER_WITHIN = 5.0
RECOVERY_WITHIN = 30.0
STEADY_SECONDS = 2.0

DURING_OUTAGE = {op: {status, 503} for op, status in NORMAL.items()} | {"health": {200}}


async def test_postgres_stopped_and_restarted_mid_traffic(
    hexahub: Callable[..., Server], fault_postgres: ThrowawayPostgres
) -> None:
    server = hexahub()
    pid = server.pid
    async with Traffic(server.url) as traffic:
        await asyncio.sleep(BASELINE_SECONDS)
        stopped = time.monotonic()
        await asyncio.to_thread(fault_postgres.stop, "fast")
        await asyncio.sleep(OUTAGE_SECONDS)
        await asyncio.to_thread(fault_postgres.start)
        restarted = time.monotonic()
        recovered = await traffic.wait_for(
            "every request served again after Postgres returned",
            lambda: fully_served(traffic.since(restarted), NORMAL),
            within=RECOVERY_WITHIN,
        )
        await asyncio.sleep(STEADY_SECONDS)

    assert_never_broken(traffic.outcomes, server.log())
    assert_503s_say_when_to_retry(traffic.outcomes)
    assert_all_normal(traffic.answered_before(stopped), "before the outage")

    outage = traffic.between(stopped, recovered)
    assert_only(outage, DURING_OUTAGE, "while Postgres was down")
    refusals = [o for o in outage if o.op in NEEDS_DATABASE and o.status == 503]
    assert refusals, "no request was refused while Postgres was down"
    first = min(o.done for o in refusals)
    assert first - stopped <= FIRST_503_WITHIN, f"first 503 after {first - stopped:.1f}s"
    slow = [o.describe() for o in outage if o.done - o.sent > ANSWER_WITHIN]
    assert not slow, f"answers slower than {ANSWER_WITHIN}s during the outage: {slow}"

    not_ready = [o for o in outage if o.op == "ready" and o.status == 503]
    assert not_ready, "/health/ready never said 503 while Postgres was down"
    checks = not_ready[-1].body["checks"]
    assert checks["database"]["status"] != "ok", checks
    assert checks["cache"]["status"] == "ok", checks

    assert_all_normal(traffic.since(recovered), "after recovery")
    assert server.pid == pid, "HexaHub was restarted"
