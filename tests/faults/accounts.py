"""Step-by-step client calls for the fault tests that follow one account at a time."""

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.faults.traffic import PASSWORD

TIMEOUT = 10.0


def sign_up(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new account and a token pair for it."""
    name = f"fa{uuid.uuid4().hex[:12]}"
    registered = httpx.post(
        f"{url}/api/v1/auth/register",
        json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
        timeout=TIMEOUT,
    )
    assert registered.status_code == 201, registered.text
    return registered.json(), log_in(url, name, PASSWORD)


def log_in(url: str, username: str, password: str) -> dict[str, Any]:
    response = login(url, username, password)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def login(url: str, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/auth/login",
        json={"username": username, "password": password},
        timeout=TIMEOUT,
    )


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def me(url: str, tokens: dict[str, Any]) -> int:
    return httpx.get(f"{url}/api/v1/auth/me", headers=bearer(tokens), timeout=TIMEOUT).status_code


def refresh(url: str, tokens: dict[str, Any]) -> int:
    return httpx.post(
        f"{url}/api/v1/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
        timeout=TIMEOUT,
    ).status_code


def ready(url: str) -> httpx.Response:
    return httpx.get(f"{url}/health/ready", timeout=TIMEOUT)


def wait_until_ready(*urls: str, within: float) -> None:
    """Every instance says ready with every check answering (200 `ok`, not `degraded`)
    within `within` seconds."""
    deadline = time.monotonic() + within
    for url in urls:
        while (answer := ready(url)).status_code != 200 or answer.json()["status"] != "ok":
            assert time.monotonic() < deadline, f"{url} not ready in {within}s: {answer.text}"
            time.sleep(0.2)


def eventually(probe: Callable[[], int], expected: int, within: float) -> int:
    """`probe()` until it answers `expected` or `within` seconds pass; the last answer."""
    deadline = time.monotonic() + within
    while (answer := probe()) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer
