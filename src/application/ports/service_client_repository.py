from abc import abstractmethod
from typing import Protocol

from domain.tokens.service_clients import ServiceClient


class ServiceClientRepository(Protocol):
    """Service clients inside one unit of work. Never commits; never deletes (revoked
    clients stay so the audit trail can name them)."""

    @abstractmethod
    async def add(self, client: ServiceClient) -> None: ...

    @abstractmethod
    async def update(self, client: ServiceClient) -> None: ...

    @abstractmethod
    async def get(self, client_id: str) -> ServiceClient | None: ...

    @abstractmethod
    async def list(self) -> list[ServiceClient]:
        """Newest first."""
