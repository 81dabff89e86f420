from dataclasses import dataclass

from application.common.security import Principal
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.tokens.clients import authenticate_client, client_permissions


@dataclass(frozen=True, slots=True)
class AuthenticateClient:
    """A service client proving itself with its id and secret (RFC 6749 §2.3.1), for
    the OAuth endpoints it may call directly (introspection, revocation). Unknown,
    revoked or wrong-secret clients: `invalid_client`."""

    uow_factory: UnitOfWorkFactory

    async def execute(self, client_id: str, secret: str) -> Principal:
        async with self.uow_factory() as uow:
            client = await authenticate_client(uow, client_id, secret)
            permissions = await client_permissions(uow, client)
        return Principal(user=None, permissions=permissions, client_id=client.client_id)
