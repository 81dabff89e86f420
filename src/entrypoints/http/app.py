"""The FastAPI application factory. Nothing is built at import time."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from dependency_injector import providers
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import multiprocess

from adapters.metrics.workers import forget_dead_workers
from application.identity.use_cases.bootstrap_admin import BootstrapAdminCommand
from entrypoints import collector
from entrypoints.config.settings import Settings
from entrypoints.container import VERSION, Container, start, start_loops, stop
from entrypoints.container.caching import cache_kind
from entrypoints.http.client_address import parse_networks
from entrypoints.http.errors import install_error_handlers
from entrypoints.http.middleware.admission import AdmissionMiddleware
from entrypoints.http.middleware.allowed_hosts import AllowedHostsMiddleware
from entrypoints.http.middleware.allowed_methods import AllowedMethodsMiddleware
from entrypoints.http.middleware.body_limit import BodyLimitMiddleware
from entrypoints.http.middleware.metrics import MetricsMiddleware
from entrypoints.http.middleware.request_context import RequestContextMiddleware
from entrypoints.http.middleware.security_headers import SecurityHeadersMiddleware
from entrypoints.http.middleware.throttle import ThrottleMiddleware
from entrypoints.http.middleware.tracing import TracingMiddleware
from entrypoints.http.middleware.unhandled_errors import UnhandledErrorMiddleware
from entrypoints.http.openapi import TAGS, install_openapi, operation_id, servers
from entrypoints.http.routers import (
    api_keys,
    audit,
    auth,
    clients,
    events,
    external_signin,
    keys,
    mail_links,
    metrics,
    mfa,
    oauth,
    platform,
    releases,
    roles,
    signin,
    users,
    verification,
    webhooks,
    wellknown,
)
from entrypoints.http.routers.docs import install_docs
from entrypoints.http.routing import skip_unless_prefixed
from entrypoints.http.shutdown import GracefulShutdown
from entrypoints.logging import configure_logging
from entrypoints.tracing import configure_tracing, tracer_provider

log = structlog.get_logger()

DESCRIPTION = """Identity and user management: registration, log-in, rotating refresh
tokens, sessions and account administration. Every error uses one envelope:
`{"error", "message", "request_id", "details"}`."""


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    settings = settings or Settings()
    if container is None:
        container = Container(settings=providers.Object(settings))
        configure_logging(settings.log_level, settings.effective_log_format)
        configure_tracing(VERSION)  # only with OTEL_EXPORTER_OTLP_ENDPOINT set
    shutdown = GracefulShutdown(settings.effective_shutdown_drain_seconds)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await start(container)
        if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            forget_dead_workers(directory)  # a worker respawned after a crash, say
        try:
            container.password_blocklist().load()  # read once now, not on a first request
            await _bootstrap_admin(container, settings)
            # The relay, the mail dispatcher, the key refresh (which creates the first
            # stored key), the cache invalidation feed and the gauges.
            await start_loops(container)
            collector.settle()  # what was built so far is frozen: see entrypoints.collector
            log.info("started", environment=settings.environment.value, version=VERSION)
            shutdown.install()  # SIGTERM: readiness 503, drain, then uvicorn's own shutdown
            yield
        finally:
            # Reached after uvicorn has finished (or cut off) the in-flight requests, so
            # the background loops (stopped first) and the pools outlive every request.
            shutdown.uninstall()
            collector.restore()
            await stop(container)
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                # This worker's live gauges (in-flight requests) leave the sum.
                multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
            log.info("stopped")

    app = FastAPI(
        title="HexaHub",
        version=VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        openapi_tags=TAGS,
        servers=servers(settings.public_base_url),
        generate_unique_id_function=operation_id,
        # Request spans come from TracingMiddleware (no query strings, traceparent out);
        # FastAPI's own would trace each request a second time. Its metrics and logs
        # telemetry look up OpenTelemetry's global providers on every request (about 1 to
        # 8 % of `/me` in the profiles), for providers this service never sets:
        # Prometheus counts the requests.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.container = container
    app.state.shutdown = shutdown
    install_error_handlers(app)
    for router in (
        auth.router,  # first: it holds the hottest route, GET /auth/me
        platform.router,
        oauth.router,
        verification.router,
        users.router,
        roles.router,
        api_keys.router,
        audit.router,
        clients.router,
        keys.router,
        mfa.router,
        wellknown.router,
        *releases.routers,
        events.router,
        webhooks.router,
        signin.router,
        signin.consents_router,
        mail_links.router,
        external_signin.router,
        external_signin.identities_router,
        external_signin.admin_router,
    ):
        app.include_router(skip_unless_prefixed(router))
    if settings.metrics_enabled:
        app.include_router(metrics.router)
    if settings.docs_enabled:
        install_docs(app)
    install_openapi(
        app, password_bounds=(settings.password_min_length, settings.password_max_length)
    )

    # Added innermost first, so the outermost comes last. From the outside in:
    #   request context   every response carries X-Request-ID; logs bind the id
    #   security headers  on every response: host refusals, preflights, 413s and 500s too
    #   allowed hosts     a forged Host is refused before anything else reads it
    #   CORS              wraps the 413 and 500 paths, so browsers can read those errors
    #   unhandled errors  the last net: an enveloped 500
    #   throttle, body limit, admission (a bounded number worked on at once), OPTIONS,
    #   then the routes
    app.add_middleware(AllowedMethodsMiddleware)
    # Inside the throttle and the body limit: a refused request never waits for a place,
    # and a body is counted while admission reads it ahead.
    if limit := admission_limit(settings):
        app.add_middleware(AdmissionMiddleware, limit=limit, starts_per_turn=STARTS_PER_TURN)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ThrottleMiddleware, throttle=container.throttle)
    app.add_middleware(UnhandledErrorMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-API-Key"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            ],
            max_age=600,
        )
    app.add_middleware(AllowedHostsMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(
        SecurityHeadersMiddleware,
        hsts=settings.hsts_enabled,
        docs_paths=("/docs", "/redoc", "/static/docs"),
    )
    # Outside everything but the request context: it times and counts every answer,
    # host refusals, 429s, 413s and the enveloped 500s included.
    if settings.metrics_enabled:
        app.add_middleware(MetricsMiddleware)
    app.add_middleware(
        RequestContextMiddleware, trusted_proxies=parse_networks(settings.trusted_proxies)
    )
    # Outermost: the request span covers every answer, and the access line carries its ids.
    if (provider := tracer_provider()) is not None:
        app.add_middleware(TracingMiddleware, tracer_provider=provider)
    return app


# Measured on one core with 64 connections of /me: with the cache on, a login beside
# them took 0.6-1 s at 8 (5-6 s unbounded); with it off, where each request waits on
# the database, 8 halved /me (614 against 1,203 req/s on SQLite), so then no bound.
CACHED_ADMISSION_LIMIT = 8
# At most this many requests start per turn of the event loop (see the admission
# middleware): with 64 connections of cached /me and 2 of logins on one core, logins
# went from 4.6 to 11-12 a second and /me's p99 stayed at 42-46 ms; 16 and 48 did about
# as well, 64 let the turns grow back.
STARTS_PER_TURN = 32


def admission_limit(settings: Settings) -> int:
    if settings.max_concurrent_requests is not None:
        return settings.max_concurrent_requests
    return CACHED_ADMISSION_LIMIT if cache_kind(settings) != "off" else 0


async def _bootstrap_admin(container: Container, settings: Settings) -> None:
    if not (settings.first_admin_email and settings.first_admin_password):
        return
    created = await container.bootstrap_admin().execute(
        BootstrapAdminCommand(
            email=settings.first_admin_email,
            password=settings.first_admin_password.get_secret_value(),
            username=settings.first_admin_username,
        )
    )
    if created is not None:
        log.info("first_admin_created", user_id=str(created.id))
