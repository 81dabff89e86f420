"""Live events and webhooks: the hub that feeds this instance's WebSocket and SSE
connections from the event bus, and the webhook deliveries."""

from collections.abc import AsyncIterator
from datetime import timedelta

from dependency_injector import containers, providers

from application.live.hub import LiveHub
from entrypoints.config.settings import Settings
from entrypoints.container.lifecycle import Loop, supervised


async def _listening(hub: LiveHub) -> AsyncIterator[object]:
    async with supervised("live-hub", hub.run) as task:
        yield task


class Live(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    events = providers.DependenciesContainer()

    live_hub = providers.Singleton(
        LiveHub,
        bus=events.bus,
        transactions=persistence.reads.provider,
        clock=core.clock,
        retention=providers.Callable(
            lambda s: timedelta(seconds=s.event_retention_seconds), settings
        ),
        queue_limit=providers.Callable(lambda s: s.live_queue_limit, settings),
        per_account_limit=providers.Callable(lambda s: s.live_max_connections_per_user, settings),
    )
    live_listening = Loop(_listening, live_hub)
