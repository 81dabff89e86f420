"""Registering, listing and revoking service clients."""

import secrets
from dataclasses import dataclass

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import ServiceClientNotFoundError
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.tokens.clients import CLIENT_ID_PREFIX, CLIENT_SECRET_PREFIX, secret_digest
from domain.access.permissions import Permission
from domain.tokens.service_clients import ServiceClient


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateClientCommand:
    name: str
    scopes: list[str]


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    client: ServiceClient
    secret: str
    """Returned once, never stored, never shown again."""


@dataclass(frozen=True, slots=True)
class CreateClient(Transactional):
    """Register a service client for the client-credentials grant. Needs
    `clients:manage` and a login session. Scopes must be permissions the caller holds
    (no escalation); the secret is returned once and stored as a digest."""

    async def execute(self, principal: Principal, command: CreateClientCommand) -> RegisteredClient:
        principal.require(Permission.CLIENTS_MANAGE)
        principal.require_session()
        name, scopes = principal.credential(command.name, command.scopes)
        secret = CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)
        client = ServiceClient.register(
            client_id=CLIENT_ID_PREFIX + secrets.token_hex(8),
            name=name,
            secret_hash=secret_digest(secret),
            scopes=scopes,
            created_by=principal.actor_id,
            now=self.clock.now(),
        )
        async with self.uow_factory() as uow:
            await uow.clients.add(client)
            await uow.commit(actor_id=principal.actor_id)
        return RegisteredClient(client, secret)


@dataclass(frozen=True, slots=True)
class ListClients:
    """Every service client, newest first, without secrets. Needs `clients:manage`."""

    uow_factory: UnitOfWorkFactory

    async def execute(self, principal: Principal) -> list[ServiceClient]:
        principal.require(Permission.CLIENTS_MANAGE)
        async with self.uow_factory() as uow:
            return await uow.clients.list()


@dataclass(frozen=True, slots=True)
class RevokeClient(Transactional):
    """Revoke a client: its secret and every token it holds stop working at once.
    Needs `clients:manage`."""

    async def execute(self, principal: Principal, client_id: str) -> None:
        principal.require(Permission.CLIENTS_MANAGE)
        async with self.uow_factory() as uow:
            client = await uow.clients.get(client_id)
            if client is None:
                raise ServiceClientNotFoundError()
            if client.revoke(now=self.clock.now()):
                await uow.clients.update(client)
                await uow.commit(actor_id=principal.actor_id)
