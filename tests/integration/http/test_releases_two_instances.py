"""The releases context on two instances sharing Postgres and Redis: the database
decides between concurrent deployments, and a change made on one instance is read on
the other at once although both cache tiers of the other are warm."""

import asyncio
from collections import Counter

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.http.conftest import ADMIN
from tests.integration.http.helpers import bearer, login
from tests.integration.http.releases_helpers import (
    ENVIRONMENTS,
    RELEASES,
    deploy,
    deployed,
    environment,
    release,
)
from tests.integration.http.test_cache_freshness import instances  # noqa: F401 - the fixture

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

Instances = tuple[httpx.AsyncClient, httpx.AsyncClient, dict[str, str]]


@pytest.fixture
async def signed_in(
    instances: tuple[httpx.AsyncClient, httpx.AsyncClient],  # noqa: F811 - the fixture
) -> Instances:
    """The cache-freshness suite's two instances, and the administrator's headers."""
    a, b = instances
    return a, b, bearer(await login(a, "admin", ADMIN["first_admin_password"]))


async def cache_hits(client: httpx.AsyncClient, cache: str, tier: str) -> float:
    text = (await client.get("/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "hexahub_cache_requests_total"
        and sample.labels == {"cache": cache, "tier": tier, "result": "hit"}
    )


async def test_25_parallel_deployments_over_two_instances_give_one_201(
    signed_in: Instances,
) -> None:
    a, b, admin = signed_in
    await environment(a, admin, "staging")
    ready = await release(a, admin)
    responses = await asyncio.gather(
        *(deploy(a if n % 2 else b, admin, ready["id"], "staging") for n in range(25))
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 24}
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"conflict"}


async def test_a_release_changed_on_one_instance_is_read_fresh_on_the_other(
    signed_in: Instances,
) -> None:
    a, b, admin = signed_in
    draft = await release(a, admin, ready=False)
    path = f"{RELEASES}/{draft['id']}"
    # Warm B: the first read fills Redis and B's in-process tier, the second hits it.
    assert (await b.get(path, headers=admin)).json()["status"] == "draft"
    before = await cache_hits(b, "release", "local")
    assert (await b.get(path, headers=admin)).json()["status"] == "draft"
    assert await cache_hits(b, "release", "local") == before + 1

    moved = await a.patch(path, json={"status": "ready", "notes": "go"}, headers=admin)
    assert moved.status_code == 200, moved.text
    seen = (await b.get(path, headers=admin)).json()
    assert (seen["status"], seen["notes"]) == ("ready", "go")


async def test_environments_changed_on_one_instance_are_read_fresh_on_the_other(
    signed_in: Instances,
) -> None:
    a, b, admin = signed_in
    await environment(a, admin, "staging")
    ready = await release(a, admin)
    for _ in range(2):  # warm both tiers on B
        listed = (await b.get(ENVIRONMENTS, headers=admin)).json()["items"]
    assert [e["name"] for e in listed] == ["staging"]
    assert listed[0]["current_release_id"] is None
    assert await cache_hits(b, "environments", "local") >= 1

    await environment(a, admin, "production", requires=["staging"])
    listed = (await b.get(ENVIRONMENTS, headers=admin)).json()["items"]
    assert [e["name"] for e in listed] == ["staging", "production"]

    await b.get(f"{ENVIRONMENTS}/staging", headers=admin)  # warm again
    done = await deployed(a, admin, ready["id"], "staging")
    staging = (await b.get(f"{ENVIRONMENTS}/staging", headers=admin)).json()
    assert staging["current_deployment_id"] == done["id"]
    assert staging["current_version"] == ready["version"]
    # And the promotion rule sees it from the other instance at once.
    assert (await deploy(b, admin, ready["id"], "production")).status_code == 201
