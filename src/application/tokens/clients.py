"""Service clients: what they may do now, and proving who they are."""

import hashlib
import hmac

from application.access.permissions import permissions_for
from application.errors import InvalidClientError
from application.ports.transaction import Transaction
from domain.access.permissions import Permission
from domain.tokens.service_clients import ServiceClient

CLIENT_ID_PREFIX = "hxc_"
CLIENT_SECRET_PREFIX = "hxs_"  # noqa: S105 - a public prefix for secret scanners


def secret_digest(secret: str) -> str:
    """256 random bits need no slow hash; the digest is stored, the secret never."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


async def client_permissions(uow: Transaction, client: ServiceClient) -> frozenset[Permission]:
    """What a client may do now: its scopes, limited (like an API key) to what its
    creator still holds, so a demoted or deleted creator's clients lose it too."""
    if client.created_by is None:
        return client.scopes
    creator = await uow.users.get(client.created_by)
    if creator is None or not creator.is_active:
        return frozenset()
    return client.scopes & await permissions_for(uow.roles, creator.roles)


async def authenticate_client(uow: Transaction, client_id: str, secret: str) -> ServiceClient:
    """The active client whose secret matches (constant-time), else `invalid_client`."""
    client = await uow.clients.get(client_id)
    if client is None or not client.is_active:
        raise InvalidClientError()
    if client.is_public or not hmac.compare_digest(secret_digest(secret), client.secret_hash):
        raise InvalidClientError()
    return client
