"""Root, health and offline docs."""

import httpx

from tests.integration.http.conftest import AppFactory


async def test_root_names_the_service(memory_client: httpx.AsyncClient) -> None:
    body = (await memory_client.get("/")).json()
    assert body == {"name": "HexaHub", "version": body["version"], "environment": "test"}


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cache"]["status"] == "ok"
    db = (await client.get("/health/db")).json()
    assert set(db["checks"]) == {"database"}


async def test_database_down_means_503_and_health_stays_up(
    app_factory: AppFactory, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # A database URL nothing listens on: the service must start, report, and refuse
    # politely rather than fail open or crash.
    client = await app_factory(
        database_url="postgresql+asyncpg://postgres@127.0.0.1:1/none",
        database_connect_timeout_seconds=0.5,
    )
    assert (await client.get("/health")).status_code == 200
    ready = await client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["status"] == "unavailable"
    login = await client.post(
        "/api/v1/auth/login", json={"username": "someone", "password": "whatever-1"}
    )
    assert login.status_code == 503
    assert login.json()["error"] == "service_unavailable"
    assert int(login.headers["retry-after"]) > 0


async def test_docs_are_served_with_local_assets(memory_client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await memory_client.get(page)).text
        assert "cdn.jsdelivr.net" not in html
        assert "fonts.googleapis" not in html
        assert "/static/docs/" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        response = await memory_client.get(f"/static/docs/{asset}")
        assert response.status_code == 200
        assert len(response.content) > 10_000
    spec = (await memory_client.get("/openapi.json")).json()
    assert "/api/v1/auth/register" in spec["paths"]
    register_responses = spec["paths"]["/api/v1/auth/register"]["post"]["responses"]
    assert {"201", "409", "422"} <= set(register_responses)
