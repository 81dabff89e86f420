"""Service identity and health. `/health` touches nothing, so it stays 200 while a
dependency is down or the process is shutting down; `/health/ready` is what a load
balancer should route by: 503 with `"status": "draining"` once a SIGTERM arrived."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from entrypoints.http.dependencies import container_of
from entrypoints.http.health import run_probes
from entrypoints.http.schemas.platform import Liveness, Readiness, ServiceInfo

router = APIRouter(tags=["platform"])


@router.get("/", operation_id="getServiceInfo")
async def root(request: Request) -> ServiceInfo:
    info = container_of(request).service_info()
    return ServiceInfo(**info)


@router.get("/health", operation_id="getLiveness")
async def health() -> Liveness:
    return Liveness(status="ok")


@router.get(
    "/health/ready",
    operation_id="getReadiness",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: a check failed, or draining"}},
)
async def ready(request: Request) -> JSONResponse:
    draining: bool = request.app.state.shutdown.draining
    container = container_of(request)
    return await _checked(container.health_probes(), container.health_breakers(), draining=draining)


@router.get(
    "/health/db",
    operation_id="getDatabaseReadiness",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database check failed"}},
)
async def database(request: Request) -> JSONResponse:
    container = container_of(request)
    probes = container.health_probes()
    return await _checked({"database": probes["database"]}, container.health_breakers())


async def _checked(
    probes: dict[str, Any], breakers: dict[str, Any], *, draining: bool = False
) -> JSONResponse:
    ok, checks = await run_probes(probes, breakers)
    status = "draining" if draining else "ok" if ok else "unavailable"
    ok = ok and not draining
    body = {"status": status, "checks": checks}
    headers = {"Cache-Control": "no-store"}
    if not ok:
        headers["Retry-After"] = "5"
    return JSONResponse(body, status_code=200 if ok else 503, headers=headers)
