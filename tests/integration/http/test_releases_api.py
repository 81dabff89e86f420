"""The releases context over HTTP, on memory, SQLite and Postgres + Redis: every path,
code and rule of API.md's "Releases and deployments"."""

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.integration.http.helpers import bearer, registered_and_logged_in
from tests.integration.http.releases_helpers import (
    DEPLOYMENTS,
    ENVIRONMENTS,
    RELEASES,
    deploy,
    deployed,
    environment,
    move,
    release,
)

Headers = dict[str, str]


def field_error(response: httpx.Response, loc: list[str]) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    assert any(d["loc"][-len(loc) :] == loc for d in body["details"]), body


async def test_walkthrough_from_draft_to_production(api: httpx.AsyncClient, admin: Headers) -> None:
    await environment(api, admin, "staging")
    production = await environment(api, admin, "production", protected=True, requires=["staging"])
    assert production == {
        "name": "production",
        "protected": True,
        "requires": ["staging"],
        "current_release_id": None,
        "current_version": None,
        "current_deployment_id": None,
        "updated_at": production["updated_at"],
    }
    created = await api.post(
        RELEASES,
        json={"name": "billing-api", "version": "1.4.0-rc.1+b7", "notes": "n"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    draft = created.json()
    assert draft["status"] == "draft"
    assert set(draft) == {
        "id", "name", "version", "status", "notes", "created_by", "created_at", "updated_at",
    }  # fmt: skip
    me = (await api.get("/api/v1/auth/me", headers=admin)).json()
    assert draft["created_by"] == me["id"]
    assert (await api.get(f"{RELEASES}/{draft['id']}", headers=admin)).json() == draft

    ready = await api.patch(f"{RELEASES}/{draft['id']}", json={"status": "ready"}, headers=admin)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert (await api.get(f"{RELEASES}/{draft['id']}", headers=admin)).json()["status"] == "ready"

    to_staging = await deploy(api, admin, draft["id"], "staging")
    assert to_staging.status_code == 201, to_staging.text
    pending = to_staging.json()
    assert pending["status"] == "pending"
    assert set(pending) == {
        "id", "release_id", "release_name", "version", "environment", "status", "message",
        "requested_by", "created_at", "started_at", "finished_at",
    }  # fmt: skip
    assert (pending["release_name"], pending["version"]) == ("billing-api", "1.4.0-rc.1+b7")
    started = (await move(api, admin, pending["id"], "in_progress")).json()
    assert started["started_at"] is not None
    assert started["finished_at"] is None
    done = await api.patch(
        f"{DEPLOYMENTS}/{pending['id']}",
        json={"status": "succeeded", "message": "ok"},
        headers=admin,
    )
    assert done.status_code == 200
    assert done.json()["message"] == "ok"
    assert done.json()["finished_at"] is not None

    staging = (await api.get(f"{ENVIRONMENTS}/staging", headers=admin)).json()
    assert staging["current_release_id"] == draft["id"]
    assert staging["current_version"] == "1.4.0-rc.1+b7"
    assert staging["current_deployment_id"] == pending["id"]

    to_production = await deploy(api, admin, draft["id"], "production")
    assert to_production.status_code == 201, to_production.text
    assert (await api.get(f"{DEPLOYMENTS}/{to_production.json()['id']}", headers=admin)).json()[
        "environment"
    ] == "production"
    listed = (await api.get(ENVIRONMENTS, headers=admin)).json()["items"]
    assert [e["name"] for e in listed] == ["staging", "production"]  # promotion order


async def test_lists_are_newest_first_filtered_and_paged(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    await environment(api, admin, "dev")
    made = [await release(api, admin, "svc-a", f"1.0.{n}") for n in range(3)]
    other = await release(api, admin, "svc-b", "2.0.0", ready=False)
    page = (await api.get(RELEASES, params={"limit": 2}, headers=admin)).json()
    assert [r["id"] for r in page["items"]] == [other["id"], made[2]["id"]]
    assert page["limit"] == 2
    assert page["next_cursor"]
    rest = await api.get(
        RELEASES, params={"limit": 2, "cursor": page["next_cursor"]}, headers=admin
    )
    assert [r["id"] for r in rest.json()["items"]] == [made[1]["id"], made[0]["id"]]
    assert rest.json()["next_cursor"] is None
    by_name = (await api.get(RELEASES, params={"name": "svc-b"}, headers=admin)).json()
    assert [r["id"] for r in by_name["items"]] == [other["id"]]
    drafts = (await api.get(RELEASES, params={"status": "draft"}, headers=admin)).json()
    assert [r["id"] for r in drafts["items"]] == [other["id"]]
    # A cursor made for other filters is refused.
    reused = await api.get(
        RELEASES, params={"cursor": page["next_cursor"], "limit": 2, "name": "svc-a"}, headers=admin
    )
    assert reused.status_code == 400

    first = await deployed(api, admin, made[0]["id"], "dev")
    second = (await deploy(api, admin, made[1]["id"], "dev")).json()
    listed = (await api.get(DEPLOYMENTS, params={"environment": "dev"}, headers=admin)).json()
    assert [d["id"] for d in listed["items"]] == [second["id"], first["id"]]
    one = await api.get(DEPLOYMENTS, params={"limit": 1}, headers=admin)
    nxt = await api.get(
        DEPLOYMENTS, params={"limit": 1, "cursor": one.json()["next_cursor"]}, headers=admin
    )
    assert [d["id"] for d in nxt.json()["items"]] == [first["id"]]
    by_status = await api.get(DEPLOYMENTS, params={"status": "succeeded"}, headers=admin)
    assert [d["id"] for d in by_status.json()["items"]] == [first["id"]]
    by_release = await api.get(DEPLOYMENTS, params={"release_id": made[1]["id"]}, headers=admin)
    assert [d["id"] for d in by_release.json()["items"]] == [second["id"]]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "Billing", "version": "1.0.0"}, ["name"]),
        ({"name": "-billing", "version": "1.0.0"}, ["name"]),
        ({"name": "billing", "version": "1.0"}, ["version"]),
        ({"name": "billing", "version": "01.0.0"}, ["version"]),
        ({"name": "billing", "version": "1.0.0-"}, ["version"]),
    ],
)
async def test_names_and_versions_are_validated(
    memory_api: httpx.AsyncClient, memory_admin: Headers, body: dict[str, str], loc: list[str]
) -> None:
    field_error(await memory_api.post(RELEASES, json=body, headers=memory_admin), loc)


async def test_unknown_things_are_404(api: httpx.AsyncClient, admin: Headers) -> None:
    unknown = "0190f0a0-0000-7000-8000-000000000000"
    assert (await api.get(f"{RELEASES}/{unknown}", headers=admin)).status_code == 404
    patched = await api.patch(f"{RELEASES}/{unknown}", json={"status": "ready"}, headers=admin)
    assert patched.status_code == 404
    assert (await api.get(f"{ENVIRONMENTS}/nowhere", headers=admin)).status_code == 404
    assert (await api.get(f"{DEPLOYMENTS}/{unknown}", headers=admin)).status_code == 404
    assert (await move(api, admin, unknown, "in_progress")).status_code == 404
    ready = await release(api, admin)
    missing_env = await deploy(api, admin, ready["id"], "nowhere")
    assert missing_env.status_code == 404
    assert missing_env.json()["error"] == "not_found"
    await environment(api, admin, "staging")
    assert (await deploy(api, admin, unknown, "staging")).status_code == 404
    unknown_requirement = await api.post(
        ENVIRONMENTS, json={"name": "prod", "requires": ["nowhere"]}, headers=admin
    )
    field_error(unknown_requirement, ["requires"])


async def test_rules_are_409_naming_the_rule(api: httpx.AsyncClient, admin: Headers) -> None:
    await environment(api, admin, "staging")
    await environment(api, admin, "production", requires=["staging"])
    draft = await release(api, admin, ready=False)

    taken = await api.post(
        RELEASES, json={"name": "billing-api", "version": "1.0.0"}, headers=admin
    )
    assert taken.status_code == 409
    assert "unique-release" in taken.json()["message"]
    assert (
        await api.post(ENVIRONMENTS, json={"name": "staging"}, headers=admin)
    ).status_code == 409

    not_ready = await deploy(api, admin, draft["id"], "staging")
    assert not_ready.status_code == 409
    assert "deploy-ready-only" in not_ready.json()["message"]

    ready = (
        await api.patch(f"{RELEASES}/{draft['id']}", json={"status": "ready"}, headers=admin)
    ).json()
    back = await api.patch(f"{RELEASES}/{ready['id']}", json={"status": "draft"}, headers=admin)
    assert back.status_code == 409
    assert "release-status" in back.json()["message"]

    early = await deploy(api, admin, ready["id"], "production")
    assert early.status_code == 409
    assert "promotion-order" in early.json()["message"]
    assert "staging" in early.json()["message"]

    first = await deploy(api, admin, ready["id"], "staging")
    assert first.status_code == 201
    busy = await deploy(api, admin, ready["id"], "staging")
    assert busy.status_code == 409
    assert "one-active-deployment" in busy.json()["message"]

    skipped = await move(api, admin, first.json()["id"], "succeeded")
    assert skipped.status_code == 409
    assert "deployment-status" in skipped.json()["message"]
    assert (await move(api, admin, first.json()["id"], "cancelled")).status_code == 200
    # Cancelled: the environment is free again, and the promotion rule still holds.
    assert (await move(api, admin, first.json()["id"], "in_progress")).status_code == 409
    assert (await deploy(api, admin, ready["id"], "staging")).status_code == 201
    assert (await deploy(api, admin, ready["id"], "production")).status_code == 409

    deprecated = await api.patch(
        f"{RELEASES}/{ready['id']}", json={"status": "deprecated"}, headers=admin
    )
    assert deprecated.status_code == 200
    other = await environment(api, admin, "qa")
    refused = await deploy(api, admin, ready["id"], other["name"])
    assert refused.status_code == 409
    assert "deploy-ready-only" in refused.json()["message"]


async def test_permissions(api: httpx.AsyncClient, admin: Headers) -> None:
    await environment(api, admin, "staging")
    await environment(api, admin, "production", protected=True)
    ready = await release(api, admin)
    assert (await api.get(RELEASES)).status_code == 401

    plain, tokens = await registered_and_logged_in(api)
    user = bearer(tokens)
    for path in (RELEASES, ENVIRONMENTS, DEPLOYMENTS, f"{RELEASES}/{ready['id']}"):
        assert (await api.get(path, headers=user)).status_code == 403, path
    body = {"name": "x", "version": "1.0.0"}
    assert (await api.post(RELEASES, json=body, headers=user)).status_code == 403
    assert (await api.post(ENVIRONMENTS, json={"name": "x"}, headers=user)).status_code == 403

    # The auditor reads, and writes nothing.
    await api.put(f"/api/v1/users/{plain['id']}/roles", json={"roles": ["auditor"]}, headers=admin)
    assert (await api.get(f"{RELEASES}/{ready['id']}", headers=user)).status_code == 200
    assert (await api.post(RELEASES, json=body, headers=user)).status_code == 403
    assert (await deploy(api, user, ready["id"], "staging")).status_code == 403

    # A custom role with deployments:write deploys, but not to a protected environment.
    role = {"name": "deployer", "permissions": ["releases:read", "deployments:write"]}
    assert (await api.post("/api/v1/roles", json=role, headers=admin)).status_code == 201
    await api.put(f"/api/v1/users/{plain['id']}/roles", json={"roles": ["deployer"]}, headers=admin)
    assert (await deploy(api, user, ready["id"], "staging")).status_code == 201
    protected = await deploy(api, user, ready["id"], "production")
    assert protected.status_code == 403
    assert protected.json()["error"] == "forbidden"
    allowed = await deploy(api, admin, ready["id"], "production")
    assert allowed.status_code == 201
    # Reporting on a protected environment's deployment needs it too.
    assert (await move(api, user, allowed.json()["id"], "in_progress")).status_code == 403


async def test_idempotency_keys(api: httpx.AsyncClient, admin: Headers) -> None:
    await environment(api, admin, "staging")
    key = {"Idempotency-Key": "create-billing-1"}
    body = {"name": "billing-api", "version": "3.0.0"}
    first = await api.post(RELEASES, json=body, headers=admin | key)
    again = await api.post(RELEASES, json=body, headers=admin | key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    listed = (await api.get(RELEASES, params={"name": "billing-api"}, headers=admin)).json()
    assert len(listed["items"]) == 1
    other = await api.post(RELEASES, json={**body, "version": "3.0.1"}, headers=admin | key)
    field_error(other, ["header", "Idempotency-Key"])

    await api.patch(f"{RELEASES}/{first.json()['id']}", json={"status": "ready"}, headers=admin)
    deploy_key = {"Idempotency-Key": "deploy-1"}
    payload = {"release_id": first.json()["id"], "environment": "staging"}
    retries = await asyncio.gather(
        *(api.post(DEPLOYMENTS, json=payload, headers=admin | deploy_key) for _ in range(5))
    )
    assert {r.status_code for r in retries} == {201}
    assert len({r.json()["id"] for r in retries}) == 1
    listed = (await api.get(DEPLOYMENTS, headers=admin)).json()
    assert len(listed["items"]) == 1


async def test_parallel_deployments_to_one_environment_give_one_201(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    await environment(api, admin, "staging")
    ready = await release(api, admin)
    responses = await asyncio.gather(
        *(deploy(api, admin, ready["id"], "staging") for _ in range(25))
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 24}
    assert {r.json()["error"] for r in responses if r.status_code == 409} == {"conflict"}


async def test_parallel_creations_of_one_release_give_one_201(
    api: httpx.AsyncClient, admin: Headers
) -> None:
    body = {"name": "billing-api", "version": "9.9.9"}
    responses = await asyncio.gather(
        *(api.post(RELEASES, json=body, headers=admin) for _ in range(10))
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 9}


async def test_every_change_is_audited(api: httpx.AsyncClient, admin: Headers) -> None:
    await environment(api, admin, "staging")
    ready = await release(api, admin)
    await deployed(api, admin, ready["id"], "staging")
    events = (await api.get("/api/v1/audit-events", params={"limit": 100}, headers=admin)).json()
    actions = Counter(e["action"] for e in events["items"])
    assert actions["environment.created"] == 1
    assert actions["release.created"] == 1
    assert actions["release.status_changed"] == 1
    assert actions["deployment.created"] == 1
    assert actions["deployment.status_changed"] == 2


async def test_deployments_are_counted_by_environment_and_outcome(
    memory_api: httpx.AsyncClient, memory_admin: Headers
) -> None:
    api, admin = memory_api, memory_admin
    await environment(api, admin, "metrics-env")
    ready = await release(api, admin)
    await deployed(api, admin, ready["id"], "metrics-env")
    text = (await api.get("/metrics")).text
    assert 'hexahub_deployments_total{environment="metrics-env",outcome="succeeded"} 1.0' in text
    assert (
        'hexahub_deployment_duration_seconds_count{environment="metrics-env",outcome="succeeded"}'
        in text
    )


@pytest.fixture
async def memory_api(app_factory: Any) -> httpx.AsyncClient:
    from tests.integration.http.conftest import ADMIN

    client: httpx.AsyncClient = await app_factory(
        database_url="memory://", _fake_hasher=True, **ADMIN
    )
    return client


@pytest.fixture
async def memory_admin(memory_api: httpx.AsyncClient) -> Headers:
    from tests.integration.http.conftest import ADMIN

    response = await memory_api.post(
        "/api/v1/auth/login", json={"username": "admin", "password": ADMIN["first_admin_password"]}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
