"""Opening and closing the container's resources, and the one way background loops run.

Infrastructure (engines, Redis clients, the hasher's pool) are `Resource`s opened by
`start` and closed by `stop`. Background loops (relay, mail, key refresh, cache feed,
metrics) are `Loop`s: started by `start_loops` once the service is ready, stopped first
by `stop`, each supervised by `supervised`.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from dependency_injector import containers, providers

log = structlog.get_logger()

RESTART_DELAY_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 2.0


class Loop(providers.Resource):  # type: ignore[type-arg]
    """A background loop: a `Resource` whose value is its running task (or None)."""


@contextlib.asynccontextmanager
async def supervised(
    name: str,
    run: Callable[[], Awaitable[None]] | None,
    *,
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> AsyncIterator[asyncio.Task[None] | None]:
    """Run `run()` as a task named `name` until the block ends; if it fails, log the
    error class and start it again after a second (a loop that died quietly would leave
    the instance without relay, mail or key rotations). On the way out: cancel it, wait
    a bounded time, then `on_stop` (bounded too: shutdown must not hang on a dead peer).
    `run=None`: nothing to run in this configuration."""
    task = asyncio.create_task(_restarting(name, run), name=name) if run is not None else None
    try:
        yield task
    finally:
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_TIMEOUT_SECONDS)
        if on_stop is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(on_stop(), timeout=STOP_TIMEOUT_SECONDS)


async def _restarting(name: str, run: Callable[[], Awaitable[None]]) -> None:
    while True:
        try:
            await run()
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.error("background_task_failed", task=name, error=type(error).__name__)
            await asyncio.sleep(RESTART_DELAY_SECONDS)


async def start(container: containers.Container) -> None:
    """Open every resource but the loops. Afterwards providers resolve synchronously, so
    routes and use cases never see awaitables where they expect adapters."""
    infrastructure = [
        resource
        for resource in container.traverse(types=[providers.Resource])
        if not isinstance(resource, Loop)
    ]
    opening = [resource.init() for resource in infrastructure]
    await asyncio.gather(*(o for o in opening if asyncio.isfuture(o) or asyncio.iscoroutine(o)))
    for resource in infrastructure:
        resource.disable_async_mode()


async def start_loops(container: containers.Container) -> None:
    opening = container.init_resources(resource_type=Loop)
    if opening is not None:
        await opening


async def stop(container: containers.Container) -> None:
    """Loops first (they use what the other resources hold), then the rest."""
    for resource in container.traverse(types=[providers.Resource]):
        resource.enable_async_mode()
    for kind in (Loop, providers.Resource):
        closing = container.shutdown_resources(resource_type=kind)
        if closing is not None:
            await closing
