"""Registering, listing and revoking service clients."""

import re
import secrets
from dataclasses import dataclass, field

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import ServiceClientNotFoundError
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.tokens.clients import CLIENT_ID_PREFIX, CLIENT_SECRET_PREFIX, secret_digest
from domain.access.permissions import Permission
from domain.common.errors import InvalidValueError
from domain.tokens.service_clients import ServiceClient


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateClientCommand:
    name: str
    scopes: list[str]
    redirect_uris: list[str] = field(default_factory=list)
    grant_types: list[str] = field(default_factory=lambda: ["client_credentials"])
    token_endpoint_auth_method: str = "client_secret_basic"  # noqa: S105 - a method name
    first_party: bool = False


PUBLIC = "none"
GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})
AUTH_METHODS = frozenset({"none", "client_secret_basic", "client_secret_post"})
REDIRECT_URI_PATTERN = (
    r"^(?:https://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?"
    r"|http://(?:localhost|127\.0\.0\.1|\[::1\])(?::[0-9]{1,5})?"
    r"|[a-z][a-z0-9+\-]*\.[a-z0-9+\-.]+:)"
    r"(?:/[!$-;=?-~]*)?$"
)
"""RFC 6749 §3.1.2: absolute, no fragment. https; http only to a loopback address, and
private-use schemes (`com.example.app:/cb`) for native apps (RFC 8252 §7.1, §7.3).
Printable ASCII only: the URI is compared byte for byte later, so it must have one
spelling. The same pattern is in the OpenAPI document."""
_REDIRECT_URI = re.compile(REDIRECT_URI_PATTERN)


def _check_redirect_uri(uri: str) -> str:
    if len(uri) > 2000 or not _REDIRECT_URI.fullmatch(uri):
        raise InvalidValueError(
            f"redirect URI {uri!r} must be https, http on a loopback address, or a "
            "private-use scheme, absolute and without a fragment"
        )
    return uri


def _check_oidc(command: CreateClientCommand) -> None:
    grants = set(command.grant_types)
    if not grants or not grants <= GRANT_TYPES:
        raise InvalidValueError(f"grant_types must be among {sorted(GRANT_TYPES)}")
    if command.token_endpoint_auth_method not in AUTH_METHODS:
        raise InvalidValueError(f"token_endpoint_auth_method must be one of {sorted(AUTH_METHODS)}")
    if "authorization_code" in grants and not command.redirect_uris:
        raise InvalidValueError("the authorization_code grant needs at least one redirect URI")
    if command.token_endpoint_auth_method == PUBLIC and "client_credentials" in grants:
        raise InvalidValueError("a public client (none) cannot use client_credentials")
    for uri in command.redirect_uris:
        _check_redirect_uri(uri)


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    client: ServiceClient
    secret: str | None
    """Returned once, never stored, never shown again; None for a public client."""


@dataclass(frozen=True, slots=True)
class CreateClient(Transactional):
    """Register a client: a service for the client-credentials grant, or an application
    signing people in by the authorization code flow (OpenID Connect). Needs
    `clients:manage` and a login session. Scopes must be permissions the caller holds
    (no escalation); the secret is returned once and stored as a digest; a public client
    (`token_endpoint_auth_method: none`) gets none. Redirect URIs are matched exactly
    later, so each is checked now: https (http only on loopback) or a private-use
    scheme, absolute, no fragment."""

    async def execute(self, principal: Principal, command: CreateClientCommand) -> RegisteredClient:
        principal.require(Permission.CLIENTS_MANAGE)
        principal.require_session()
        name, scopes = principal.credential(command.name, command.scopes)
        _check_oidc(command)
        public = command.token_endpoint_auth_method == PUBLIC
        secret = None if public else CLIENT_SECRET_PREFIX + secrets.token_urlsafe(32)
        client = ServiceClient.register(
            client_id=CLIENT_ID_PREFIX + secrets.token_hex(8),
            name=name,
            # A public client has no secret: an empty digest matches no secret at all.
            secret_hash=secret_digest(secret) if secret else "",
            scopes=scopes,
            created_by=principal.actor_id,
            now=self.clock.now(),
            redirect_uris=tuple(dict.fromkeys(command.redirect_uris)),
            grant_types=frozenset(command.grant_types),
            token_endpoint_auth_method=command.token_endpoint_auth_method,
            first_party=command.first_party,
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
