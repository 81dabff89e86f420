"""`Allow` lists every method a path supports, on 405 and on `OPTIONS` (RFC 9110 §10.2.1,
§9.3.7, §15.5.6).

Starlette routes one method set per route, so a path served by several routes (GET and
PATCH on `/users/{id}`) would otherwise answer 405 with the first route's methods only,
and `OPTIONS` with 405. A CORS preflight never reaches here: `CORSMiddleware` sits
outside and answers it.
"""

from fastapi.routing import iter_route_contexts
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

# The order clients read most easily; anything else follows alphabetically.
_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(scope: Scope) -> list[str]:
    """Methods of every route matching the request's path, plus OPTIONS; empty when no
    route serves the path (a 404, not a 405)."""
    probe = {**scope, "type": "http", "method": "OPTIONS"}
    methods: set[str] = set()
    # Included routers are resolved lazily by FastAPI; this walks the routes they hold.
    for route in iter_route_contexts(scope["app"].router.routes):
        if route.methods and route.matches(probe)[0] is not Match.NONE:
            methods |= route.methods
    if not methods:
        return []
    methods.add("OPTIONS")
    return sorted(methods, key=lambda m: (_ORDER.index(m) if m in _ORDER else len(_ORDER), m))


def allow_header(scope: Scope) -> str:
    return ", ".join(allowed_methods(scope))


class AllowedMethodsMiddleware:
    """Answers `OPTIONS` on any route with 204 and `Allow`; other requests pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        methods = allowed_methods(scope)
        if not methods:
            await self.app(scope, receive, send)  # an unknown path: the usual 404
            return
        await Response(status_code=204, headers={"Allow": ", ".join(methods)})(scope, receive, send)
