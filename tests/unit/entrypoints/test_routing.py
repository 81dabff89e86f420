"""Routers are skipped unless the path starts with their prefix, with the same answers
as without the shortcut: the matching route, 405 for another method, 404 elsewhere."""

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from entrypoints.http.routing import skip_unless_prefixed

tried: list[str] = []


class NotedRoute(APIRoute):
    """Notes each path it is asked to match."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        tried.append(f"{self.path} <- {scope['path']}")
        return super().matches(scope)


def app() -> FastAPI:
    first = APIRouter(prefix="/api/v1/auth", route_class=NotedRoute)
    second = APIRouter(prefix="/api/v1/users", route_class=NotedRoute)

    @first.get("/me")
    async def me() -> dict[str, Any]:
        return {"me": True}

    @second.get("/{user_id}")
    async def user(user_id: str) -> dict[str, Any]:
        return {"id": user_id}

    served = FastAPI()
    for router in (first, second):
        served.include_router(skip_unless_prefixed(router))
    return served


async def get(
    served: FastAPI, path: str, method: str = "GET", root_path: str = ""
) -> httpx.Response:
    transport = httpx.ASGITransport(app=served, root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path)


@pytest.fixture(autouse=True)
def forget() -> None:
    tried.clear()


async def test_a_router_whose_prefix_the_path_lacks_is_not_tried() -> None:
    response = await get(app(), "/api/v1/users/42")
    assert response.json() == {"id": "42"}
    assert not any(t.startswith("/api/v1/auth") for t in tried)


async def test_the_answers_are_the_same() -> None:
    served = app()
    assert (await get(served, "/api/v1/auth/me")).json() == {"me": True}
    assert (await get(served, "/api/v1/auth/me", "DELETE")).status_code == 405
    assert (await get(served, "/api/v1/nowhere")).status_code == 404
    assert (await get(served, "/api/v1/authx/me")).status_code == 404


async def test_the_prefix_is_read_below_the_root_path() -> None:
    response = await get(app(), "/idp/api/v1/auth/me", root_path="/idp")
    assert response.json() == {"me": True}
