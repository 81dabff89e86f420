"""Registering, reading, changing and deleting webhooks, and reading their deliveries.
Every one needs `webhooks:manage`."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import WebhookNotFoundError
from application.ports.id_generator import IdGenerator
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.ports.webhook_sender import WebhookSender
from application.webhooks.signing import new_secret
from domain.access.permissions import Permission
from domain.common.errors import InvalidValueError
from domain.webhooks.webhooks import Webhook, WebhookDelivery


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateWebhookCommand:
    url: str
    events: list[str]
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateWebhookCommand:
    webhook_id: UUID
    changes: dict[str, Any]
    """Only the fields given: `url`, `events`, `description`, `active`."""


def _description(value: str | None) -> str | None:
    if value is not None and (len(value) > 500 or not value.isprintable()):
        raise InvalidValueError(
            "description must be at most 500 printable characters", field="description"
        )
    return value


@dataclass(frozen=True, slots=True)
class CreateWebhook(Transactional):
    """Register a webhook. Its URL must be safe to call (no loopback, private,
    link-local or metadata address unless allowed; https in production): refused with
    422 otherwise. The secret (`whsec_…`) is returned once; it is stored encrypted,
    since every delivery is signed with it."""

    ids: IdGenerator
    sender: WebhookSender

    async def execute(self, principal: Principal, command: CreateWebhookCommand) -> Webhook:
        principal.require(Permission.WEBHOOKS_MANAGE)
        await self.sender.check_target(command.url)
        webhook = Webhook.register(
            id=self.ids.new_id(),
            owner_id=principal.actor_id,
            url=command.url,
            events=tuple(command.events),
            description=_description(command.description),
            secret=new_secret(),
            now=self.clock.now(),
        )
        async with self.uow_factory() as uow:
            await uow.webhooks.add(webhook)
            await uow.commit(actor_id=principal.actor_id)
        return webhook


@dataclass(frozen=True, slots=True)
class ListWebhooks:
    """Every webhook, newest first (secrets are never shown again)."""

    uow_factory: UnitOfWorkFactory

    async def execute(self, principal: Principal) -> list[Webhook]:
        principal.require(Permission.WEBHOOKS_MANAGE)
        async with self.uow_factory() as uow:
            return await uow.webhooks.all()


@dataclass(frozen=True, slots=True)
class GetWebhook:
    uow_factory: UnitOfWorkFactory

    async def execute(self, principal: Principal, webhook_id: UUID) -> Webhook:
        principal.require(Permission.WEBHOOKS_MANAGE)
        async with self.uow_factory() as uow:
            webhook = await uow.webhooks.get(webhook_id)
        if webhook is None:
            raise WebhookNotFoundError()
        return webhook


@dataclass(frozen=True, slots=True)
class UpdateWebhook(Transactional):
    """Change the given fields; a new URL is checked as on creation. Switching a
    disabled webhook back on starts a fresh count of failures."""

    sender: WebhookSender

    async def execute(self, principal: Principal, command: UpdateWebhookCommand) -> Webhook:
        principal.require(Permission.WEBHOOKS_MANAGE)
        changes = dict(command.changes)
        if "url" in changes:
            await self.sender.check_target(changes["url"])
        if "description" in changes:
            changes["description"] = _description(changes["description"])
        if "events" in changes:
            changes["events"] = tuple(changes["events"])
        async with self.uow_factory() as uow:
            webhook = await uow.webhooks.get(command.webhook_id)
            if webhook is None:
                raise WebhookNotFoundError()
            webhook.change(now=self.clock.now(), **changes)
            await uow.webhooks.update(webhook)
            await uow.commit(actor_id=principal.actor_id)
        return webhook


@dataclass(frozen=True, slots=True)
class DeleteWebhook(Transactional):
    """Delete a webhook and its delivery log; nothing more is sent to it."""

    async def execute(self, principal: Principal, webhook_id: UUID) -> None:
        principal.require(Permission.WEBHOOKS_MANAGE)
        async with self.uow_factory() as uow:
            webhook = await uow.webhooks.get(webhook_id)
            if webhook is None:
                raise WebhookNotFoundError()
            webhook.deleted(now=self.clock.now())
            await uow.webhooks.delete(webhook_id)
            await uow.commit(actor_id=principal.actor_id)


@dataclass(frozen=True, slots=True)
class ListWebhookDeliveries:
    """A webhook's deliveries, newest first: one per event, with its attempts so far,
    the last status code and what became of it."""

    uow_factory: UnitOfWorkFactory

    async def execute(
        self, principal: Principal, webhook_id: UUID, *, limit: int, before: UUID | None
    ) -> list[WebhookDelivery]:
        principal.require(Permission.WEBHOOKS_MANAGE)
        async with self.uow_factory() as uow:
            if await uow.webhooks.get(webhook_id) is None:
                raise WebhookNotFoundError()
            return await uow.webhooks.deliveries(webhook_id, limit=limit, before=before)
