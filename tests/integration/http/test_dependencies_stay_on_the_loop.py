"""No route depends on a plain `def`: FastAPI runs those in its thread pool, a thread hop
(and a wait for a free thread) on every request for what is a lookup on the loop."""

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dependency_injector import providers
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.integration.http.conftest import make_settings


def _routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        included = getattr(route, "original_router", None)  # an included router
        yield from _routes(included.routes) if included is not None else (route,)


def _on_the_loop(call: Any) -> bool:
    if inspect.isroutine(call) or inspect.isclass(call):
        return inspect.iscoroutinefunction(call)
    return inspect.iscoroutinefunction(type(call).__call__)  # a security scheme instance


def _sync_dependencies(dependant: Dependant) -> Iterator[str]:
    for sub in dependant.dependencies:
        if sub.call is not None and not _on_the_loop(sub.call):
            yield getattr(sub.call, "__qualname__", repr(sub.call))
        yield from _sync_dependencies(sub)


def test_every_dependency_of_every_route_is_async(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url="memory://")
    # With its own container the app leaves the process's logging and tracing alone.
    app = create_app(settings, Container(settings=providers.Object(settings)))
    routes = [r for r in _routes(app.router.routes) if isinstance(r, APIRoute)]

    blocking = {
        f"{sorted(route.methods)} {route.path}: {name}"
        for route in routes
        for name in _sync_dependencies(route.dependant)
    }

    assert len(routes) > 50  # the walk reached the included routers
    assert blocking == set()
