"""The general request budget when the limiter's store is down: 503, never a 500."""

from collections.abc import Callable
from pathlib import Path

import pytest
from dependency_injector import providers

from application.errors import (
    CacheUnavailableError,
    ServiceUnavailableError,
    StorageUnavailableError,
)
from application.ports.rate_limiter import RateLimitDecision, RateLimiter
from entrypoints.container import Container
from tests.integration.http.overriding import serving


class DownRateLimiter(RateLimiter):
    """A limiter whose store cannot answer, reporting it the way the port promises."""

    def __init__(self, error: ServiceUnavailableError) -> None:
        self.error = error

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> RateLimitDecision:
        raise self.error

    async def reset(self, key: str) -> None:
        raise self.error


class SlowStoreError(ServiceUnavailableError):
    retry_after = 17


def limiter_down(error: ServiceUnavailableError) -> Callable[[Container], None]:
    def override(container: Container) -> None:
        container.rate_limiter.override(providers.Object(DownRateLimiter(error)))

    return override


@pytest.mark.parametrize(
    "error",
    [CacheUnavailableError(), StorageUnavailableError(), SlowStoreError()],
    ids=lambda error: type(error).__name__,
)
async def test_limiter_outage_answers_503_with_the_errors_retry_after(
    tmp_path: Path, error: ServiceUnavailableError
) -> None:
    async with serving(tmp_path, limiter_down(error), rate_limit_enabled=True) as client:
        response = await client.get("/api/v1/auth/me")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "service_unavailable"
    assert body["message"] == error.message
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers["retry-after"] == str(error.retry_after)


async def test_probes_stay_reachable_during_a_limiter_outage(tmp_path: Path) -> None:
    down = limiter_down(CacheUnavailableError())
    async with serving(tmp_path, down, rate_limit_enabled=True) as client:
        assert (await client.get("/health")).status_code == 200
