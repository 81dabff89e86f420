from adapters.memory.store import Tables, detached, utc, utc_or_none
from application.errors import ConflictError, ServiceClientNotFoundError
from application.ports.service_client_repository import ServiceClientRepository
from domain.tokens.service_clients import ServiceClient


class InMemoryServiceClientRepository(ServiceClientRepository):
    """Service clients in a transaction's working tables. Same contract as the SQL
    adapter: a taken `client_id` is a `ConflictError`, `update` of an unknown client a
    `ServiceClientNotFoundError` and never changes id, creator or creation time; detached
    copies in and out."""

    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, client: ServiceClient) -> None:
        if client.client_id in self._tables.service_clients:
            raise ConflictError()
        self._tables.service_clients[client.client_id] = _stored(client)

    async def update(self, client: ServiceClient) -> None:
        current = self._tables.service_clients.get(client.client_id)
        if current is None:
            raise ServiceClientNotFoundError()
        stored = _stored(client)
        stored.created_by = current.created_by
        stored.created_at = current.created_at
        self._tables.service_clients[client.client_id] = stored

    async def get(self, client_id: str) -> ServiceClient | None:
        client = self._tables.service_clients.get(client_id)
        return None if client is None else detached(client)

    async def list(self) -> list[ServiceClient]:
        clients = sorted(
            self._tables.service_clients.values(),
            key=lambda c: (c.created_at, c.client_id),
            reverse=True,
        )
        return [detached(c) for c in clients]


def _stored(client: ServiceClient) -> ServiceClient:
    stored = detached(client)
    stored.created_at = utc(client.created_at)
    stored.revoked_at = utc_or_none(client.revoked_at)
    return stored
