"""Verbs the releases tests share: environments, releases made ready, deployments run."""

from typing import Any

import httpx

RELEASES = "/api/v1/releases"
ENVIRONMENTS = "/api/v1/environments"
DEPLOYMENTS = "/api/v1/deployments"


async def environment(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, **fields: Any
) -> dict[str, Any]:
    response = await client.post(ENVIRONMENTS, json={"name": name, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def release(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    name: str = "billing-api",
    version: str = "1.0.0",
    *,
    ready: bool = True,
) -> dict[str, Any]:
    response = await client.post(RELEASES, json={"name": name, "version": version}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    if ready:
        moved = await client.patch(
            f"{RELEASES}/{body['id']}", json={"status": "ready"}, headers=headers
        )
        assert moved.status_code == 200, moved.text
        body = moved.json()
    return body


async def deploy(
    client: httpx.AsyncClient, headers: dict[str, str], release_id: str, environment: str
) -> httpx.Response:
    return await client.post(
        DEPLOYMENTS, json={"release_id": release_id, "environment": environment}, headers=headers
    )


async def move(
    client: httpx.AsyncClient, headers: dict[str, str], deployment_id: str, status: str
) -> httpx.Response:
    return await client.patch(
        f"{DEPLOYMENTS}/{deployment_id}", json={"status": status}, headers=headers
    )


async def deployed(
    client: httpx.AsyncClient, headers: dict[str, str], release_id: str, environment: str
) -> dict[str, Any]:
    """A deployment taken to `succeeded`."""
    created = await deploy(client, headers, release_id, environment)
    assert created.status_code == 201, created.text
    for status in ("in_progress", "succeeded"):
        response = await move(client, headers, created.json()["id"], status)
        assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
