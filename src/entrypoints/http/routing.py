"""Route matching that skips a router whose prefix the path does not start with.

FastAPI tries every included router in turn, and each tries its routes' regular
expressions one by one, twice for the router that matches (once to choose it, once to
handle). A path below `/api/v1/users` was matched against every route of the routers
included before it. A router's routes all begin with its prefix, so a path without it
cannot match any of them, fully or partly (a 405 needs the path to match): skipping it
changes no answer.
"""

from collections.abc import Callable

from fastapi import APIRouter
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

Matcher = Callable[[Scope], tuple[Match, Scope]]


def skip_unless_prefixed(router: APIRouter) -> APIRouter:
    """`router`, whose matching first checks the path against its prefix."""
    prefix = router.prefix
    if not prefix:
        return router
    matches: Matcher = router.matches

    def prefixed(scope: Scope) -> tuple[Match, Scope]:
        if not get_route_path(scope).startswith(prefix):
            return Match.NONE, {}
        return matches(scope)

    router.matches = prefixed  # type: ignore[method-assign]
    return router
