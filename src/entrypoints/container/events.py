"""The event pipeline: the unit of work every use case holds, the handler table that
follows each commit, the outbox relay and the bus that reaches every instance."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import structlog
from dependency_injector import containers, providers

from adapters.logging.event_publisher import StructlogEventPublisher
from adapters.memory.event_bus import InProcessEventBus
from adapters.metrics.deployments import PrometheusDeploymentObserver
from adapters.metrics.event_publisher import PrometheusEventPublisher
from adapters.metrics.relay import PrometheusRelayObserver
from adapters.redis.event_bus import RedisEventBus
from application.access.events import ACCESS_EVENTS
from application.audit.describe import describe
from application.caching.invalidation import CacheInvalidation
from application.events.catalog import Catalog
from application.events.fan_out import FanOut
from application.events.handlers import Observing
from application.events.relay import EventRelay
from application.events.table import handler_table
from application.events.unit_of_work import EventPipeline
from application.identity.events import IDENTITY_EVENTS
from application.identity.revocation import SessionRevoker
from application.ports.unit_of_work_factory import TransactionFactory, UnitOfWorkFactory
from application.releases.cache import ReleaseCacheInvalidation
from application.releases.events import RELEASE_EVENTS
from application.signin.events import SIGNIN_EVENTS
from application.tokens.events import TOKEN_EVENTS
from application.webhooks.events import WEBHOOK_EVENTS
from application.webhooks.queue import WebhookEnqueuer
from entrypoints.config.settings import Settings
from entrypoints.container.core import redis_or_memory
from entrypoints.container.lifecycle import Loop, supervised

log = structlog.get_logger()


def _handler_failed(handler: str, error: BaseException) -> None:
    # The class only: an error message can quote what the handler was given.
    log.warning("event_handler_failed", handler=handler, error=type(error).__name__)


def _relay_failed(error: BaseException) -> None:
    log.warning("event_relay_failed", error=type(error).__name__)


def _units_of_work(pipeline: EventPipeline, transactions: TransactionFactory) -> UnitOfWorkFactory:
    return pipeline.units_of_work(transactions)


async def _relaying(
    relay: EventRelay, settings: Settings, wake: asyncio.Event
) -> AsyncIterator[object]:
    async with supervised(
        "event-relay", lambda: relay.run_forever(settings.event_relay_interval_seconds, wake)
    ) as task:
        yield task


class Events(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    security = providers.DependenciesContainer()
    caching = providers.DependenciesContainer()

    catalog = providers.Singleton(
        Catalog,
        providers.Object(IDENTITY_EVENTS),
        providers.Object(ACCESS_EVENTS),
        providers.Object(TOKEN_EVENTS),
        providers.Object(RELEASE_EVENTS),
        providers.Object(WEBHOOK_EVENTS),
        providers.Object(SIGNIN_EVENTS),
    )
    bus = providers.Selector(
        providers.Callable(redis_or_memory, settings),
        redis=providers.Singleton(
            RedisEventBus,
            core.redis_client,
            channel=providers.Callable(lambda s: f"{s.redis_key_prefix}events", settings),
            breaker=core.redis_breaker,
        ),
        memory=providers.Singleton(InProcessEventBus),
    )
    # This instance's log lines and counters, right after each commit.
    observers = providers.List(
        providers.Singleton(Observing, providers.Singleton(StructlogEventPublisher)),
        providers.Singleton(Observing, providers.Singleton(PrometheusEventPublisher)),
    )
    # Entries live as long as a token can still verify: its lifetime plus the leeway.
    session_revoker = providers.Singleton(
        SessionRevoker,
        store=security.revocation_store,
        ttl_seconds=providers.Callable(
            lambda s: s.access_token_ttl_seconds + s.jwt_leeway_seconds, settings
        ),
    )
    # Wakes this instance's webhook dispatcher when the relay queued deliveries.
    webhook_wake = providers.Singleton(asyncio.Event)
    handlers = providers.Singleton(
        handler_table,
        cache_invalidation=providers.Singleton(CacheInvalidation, caching.cache),
        session_revoker=session_revoker,
        observers=observers,
        fan_out=providers.Singleton(FanOut, bus),
        relay_observers=providers.List(providers.Singleton(PrometheusRelayObserver, core.clock)),
        release_cache_invalidation=providers.Singleton(ReleaseCacheInvalidation, caching.cache),
        deployment_observers=providers.List(providers.Singleton(PrometheusDeploymentObserver)),
        deliveries=providers.List(
            providers.Singleton(
                WebhookEnqueuer,
                persistence.transactions.provider,
                core.ids,
                core.clock,
                webhook_wake.provided.set,
                reads=persistence.reads.provider,
            )
        ),
        on_error=providers.Object(_handler_failed),
    )
    relay_wake = providers.Singleton(asyncio.Event)
    pipeline = providers.Singleton(
        EventPipeline,
        catalog=catalog,
        describe=providers.Object(describe),
        ids=core.ids,
        context=core.request_context,
        handlers=handlers,
        wake_relay=relay_wake.provided.set,
    )
    # What every use case holds: a unit of work per transaction.
    uow_factory = providers.Singleton(_units_of_work, pipeline, persistence.transactions.provider)
    relay = providers.Singleton(
        EventRelay,
        transactions=persistence.transactions.provider,
        catalog=catalog,
        handlers=handlers,
        clock=core.clock,
        retention=providers.Callable(
            lambda s: timedelta(seconds=s.event_retention_seconds), settings
        ),
        on_error=providers.Object(_relay_failed),
    )
    relaying = Loop(_relaying, relay, settings, relay_wake)
