"""Service identity and health. `/health` touches nothing, so it stays 200 while a
dependency is down; `/health/ready` is what a load balancer should route by."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from entrypoints.http.dependencies import container_of
from entrypoints.http.health import run_probes
from entrypoints.http.schemas.platform import Liveness, Readiness, ServiceInfo

router = APIRouter(tags=["platform"])


@router.get("/")
async def root(request: Request) -> ServiceInfo:
    info = container_of(request).service_info()
    return ServiceInfo(**info)


@router.get("/health")
async def health() -> Liveness:
    return Liveness(status="ok")


@router.get("/health/ready", response_model=Readiness, responses={503: {"model": Readiness}})
async def ready(request: Request) -> JSONResponse:
    return await _checked(container_of(request).health_probes())


@router.get("/health/db", response_model=Readiness, responses={503: {"model": Readiness}})
async def database(request: Request) -> JSONResponse:
    probes = container_of(request).health_probes()
    return await _checked({"database": probes["database"]})


async def _checked(probes: dict[str, Any]) -> JSONResponse:
    ok, checks = await run_probes(probes)
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    headers = {"Cache-Control": "no-store"}
    if not ok:
        headers["Retry-After"] = "5"
    return JSONResponse(body, status_code=200 if ok else 503, headers=headers)
