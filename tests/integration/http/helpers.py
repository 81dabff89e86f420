"""Small verbs the API tests share: register, log in, authorise."""

import itertools
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

PASSWORD = "correct horse battery staple"
_counter = itertools.count()


def new_identity(prefix: str = "user") -> dict[str, str]:
    n = next(_counter)
    return {"email": f"{prefix}{n}@example.com", "username": f"{prefix}{n}", "password": PASSWORD}


async def register(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {**new_identity(), **fields}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return {**response.json(), "password": body["password"]}


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """An OpenAPI document's operations by (METHOD, path)."""
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in methods
    }


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def registered_and_logged_in(
    client: httpx.AsyncClient,
) -> tuple[dict[str, Any], dict[str, Any]]:
    user = await register(client)
    return user, await login(client, user["username"], user["password"])


def gauge(text: str, name: str, dependency: str, **labels: str) -> float:
    """The value of a dependency's sample in a /metrics text, matched on the labels given."""
    wanted = {"dependency": dependency, **labels}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and wanted.items() <= sample.labels.items():
                return sample.value
    raise AssertionError(f"{name}{wanted} not exported")


async def local_hits(client: httpx.AsyncClient, cache: str) -> float:
    """How many lookups of `cache` (`user`, `session`) the in-process tier answered."""
    text = (await client.get("/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "hexahub_cache_requests_total"
        and sample.labels == {"cache": cache, "tier": "local", "result": "hit"}
    )
