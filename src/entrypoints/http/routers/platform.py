"""Service identity and health. `/health` touches nothing, so it stays 200 while a
dependency is down or the process is shutting down; `/health/ready` is what a load
balancer should route by: 503 when the database or its schema cannot serve, 200
`degraded` while only Redis is down (unless READINESS_REQUIRES_REDIS), and 503 with
`"status": "draining"` once a SIGTERM arrived."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from entrypoints.http.dependencies import container_of
from entrypoints.http.health import Check, run_checks
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
    return await _checked(container.health_checks(), draining=draining)


@router.get(
    "/health/db",
    operation_id="getDatabaseReadiness",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "The database check failed"}},
)
async def database(request: Request) -> JSONResponse:
    checks = container_of(request).health_checks()
    return await _checked({"database": checks["database"]})


async def _checked(checks: dict[str, Check], *, draining: bool = False) -> JSONResponse:
    status, results = await run_checks(checks)
    if draining:
        status = "draining"
    ok = status in ("ok", "degraded")
    body = {"status": status, "checks": results}
    headers = {"Cache-Control": "no-store"}
    if not ok:
        headers["Retry-After"] = "5"
    return JSONResponse(body, status_code=200 if ok else 503, headers=headers)
