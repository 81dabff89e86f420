"""`GET /metrics` in the Prometheus text format.

With `PROMETHEUS_MULTIPROC_DIR` set (required for `hexahub serve --workers N`; see
`entrypoints.http.middleware.metrics`), every scrape merges all workers' files through a
fresh registry: the process-global one would hold only this worker's values, and a
collector kept between scrapes would be registered twice. Without it, the process-global
registry is served as is.

Not in the OpenAPI schema and not rate limited (`ThrottleMiddleware.EXEMPT`); restrict
who can reach it at the network (it names routes and counts, no user data).
"""

import os

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics() -> Response:
    # A plain `def`: reading the multiprocess files is blocking I/O, so it runs in the
    # thread pool rather than on the loop.
    return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
    return registry
