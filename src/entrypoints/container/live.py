"""Live events and webhooks: the hub that feeds this instance's WebSocket and SSE
connections from the event bus, and webhook registration and delivery."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import structlog
from dependency_injector import containers, providers

from adapters.metrics.live import count_webhook_delivery
from adapters.webhooks.httpx_sender import HttpxWebhookSender
from application.live.hub import LiveHub
from application.webhooks.queue import WebhookDispatcher
from application.webhooks.use_cases.manage_webhooks import (
    CreateWebhook,
    DeleteWebhook,
    GetWebhook,
    ListWebhookDeliveries,
    ListWebhooks,
    UpdateWebhook,
)
from entrypoints.config.settings import Environment, Settings
from entrypoints.container.lifecycle import Loop, supervised

log = structlog.get_logger()


async def _listening(hub: LiveHub) -> AsyncIterator[object]:
    async with supervised("live-hub", hub.run) as task:
        yield task


async def _sender(settings: Settings) -> AsyncIterator[HttpxWebhookSender]:
    sender = HttpxWebhookSender(
        allow_private=settings.webhook_allow_private_targets,
        require_https=settings.environment is Environment.PRODUCTION,
        timeout_seconds=settings.webhook_timeout_seconds,
        max_connections=settings.webhook_max_in_flight,
    )
    try:
        yield sender
    finally:
        await sender.aclose()


def _dispatch_failed(error: BaseException) -> None:
    log.warning("webhook_dispatch_failed", error=type(error).__name__)


async def _dispatching(
    dispatcher: WebhookDispatcher, settings: Settings, wake: asyncio.Event
) -> AsyncIterator[object]:
    async with supervised(
        "webhook-dispatcher",
        lambda: dispatcher.run_forever(settings.webhook_dispatch_interval_seconds, wake),
    ) as task:
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

    webhook_sender = providers.Resource(_sender, settings)
    _uow = (events.uow_factory, core.clock)
    create_webhook = providers.Singleton(CreateWebhook, *_uow, core.ids, webhook_sender)
    list_webhooks = providers.Singleton(ListWebhooks, events.uow_factory)
    get_webhook = providers.Singleton(GetWebhook, events.uow_factory)
    update_webhook = providers.Singleton(UpdateWebhook, *_uow, webhook_sender)
    delete_webhook = providers.Singleton(DeleteWebhook, *_uow)
    list_webhook_deliveries = providers.Singleton(ListWebhookDeliveries, events.uow_factory)
    webhook_dispatcher = providers.Singleton(
        WebhookDispatcher,
        transactions=persistence.transactions.provider,
        units_of_work=events.uow_factory,
        sender=webhook_sender,
        clock=core.clock,
        base=providers.Callable(lambda s: s.webhook_retry_base_seconds, settings),
        cap=providers.Callable(lambda s: s.webhook_retry_max_seconds, settings),
        horizon=providers.Callable(
            lambda s: timedelta(seconds=s.webhook_retry_horizon_seconds), settings
        ),
        disable_after=providers.Callable(lambda s: s.webhook_disable_after_failures, settings),
        in_flight=providers.Callable(lambda s: s.webhook_max_in_flight, settings),
        on_outcome=providers.Object(count_webhook_delivery),
        on_error=providers.Object(_dispatch_failed),
    )
    webhook_dispatching = Loop(_dispatching, webhook_dispatcher, settings, events.webhook_wake)
