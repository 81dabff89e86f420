"""Registering, listing and revoking service clients."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from application.access.permissions import permissions_for
from application.audit.describe import Auditor
from application.common.security import Principal
from application.errors import InvalidClientError, ServiceClientNotFoundError
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.unit_of_work import UnitOfWork
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.errors import InvalidValueError
from domain.permissions import Permission, parse_permissions
from domain.service_clients import ServiceClient

CLIENT_ID_PREFIX = "hxc_"
CLIENT_SECRET_PREFIX = "hxs_"  # noqa: S105 - a public prefix for secret scanners


def secret_digest(secret: str) -> str:
    """256 random bits need no slow hash; the digest is stored, the secret never."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateClientCommand:
    name: str
    scopes: list[str]


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    client: ServiceClient
    secret: str
    """Returned once, never stored, never shown again."""


class _ClientWriter:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        events: EventPublisher,
        auditor: Auditor,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._events = events
        self._auditor = auditor


class CreateClient(_ClientWriter):
    """Register a service client for the client-credentials grant. Needs
    `clients:manage` and a login session. Scopes must be permissions the caller holds
    (no escalation); the secret is returned once and stored as a digest."""

    async def execute(self, principal: Principal, command: CreateClientCommand) -> RegisteredClient:
        principal.require(Permission.CLIENTS_MANAGE)
        principal.require_session()
        name = command.name.strip()
        if not 1 <= len(name) <= 100 or not name.isprintable():
            raise InvalidValueError("name must be 1-100 printable characters", field="name")
        scopes = parse_permissions(command.scopes, field="scopes")
        principal.may_grant(scopes)
        secret = CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)
        client = ServiceClient.register(
            client_id=CLIENT_ID_PREFIX + secrets.token_hex(8),
            name=name,
            secret_hash=secret_digest(secret),
            scopes=scopes,
            created_by=principal.actor_id,
            now=self._clock.now(),
        )
        async with self._uow_factory() as uow:
            await uow.clients.add(client)
            events = await self._auditor.commit(uow, client, actor_id=principal.actor_id)
        await self._events.publish(events)
        return RegisteredClient(client, secret)


class ListClients:
    """Every service client, newest first, without secrets. Needs `clients:manage`."""

    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def execute(self, principal: Principal) -> list[ServiceClient]:
        principal.require(Permission.CLIENTS_MANAGE)
        async with self._uow_factory() as uow:
            return await uow.clients.list()


class RevokeClient(_ClientWriter):
    """Revoke a client: its secret and every token it holds stop working at once.
    Needs `clients:manage`."""

    async def execute(self, principal: Principal, client_id: str) -> None:
        principal.require(Permission.CLIENTS_MANAGE)
        async with self._uow_factory() as uow:
            client = await uow.clients.get(client_id)
            if client is None:
                raise ServiceClientNotFoundError()
            events = []
            if client.revoke(now=self._clock.now()):
                await uow.clients.update(client)
                events = await self._auditor.commit(uow, client, actor_id=principal.actor_id)
        await self._events.publish(events)


async def client_permissions(uow: UnitOfWork, client: ServiceClient) -> frozenset[Permission]:
    """What a client may do now: its scopes, limited (like an API key) to what its
    creator still holds, so a demoted or deleted creator's clients lose it too."""
    if client.created_by is None:
        return client.scopes
    creator = await uow.users.get(client.created_by)
    if creator is None or not creator.is_active:
        return frozenset()
    return client.scopes & await permissions_for(uow.roles, creator.roles)


async def authenticate_client(uow: UnitOfWork, client_id: str, secret: str) -> ServiceClient:
    """The active client whose secret matches (constant-time), else `invalid_client`."""
    client = await uow.clients.get(client_id)
    if client is None or not client.is_active:
        raise InvalidClientError()
    if not hmac.compare_digest(secret_digest(secret), client.secret_hash):
        raise InvalidClientError()
    return client
