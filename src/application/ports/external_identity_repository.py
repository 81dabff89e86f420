from abc import abstractmethod
from typing import Protocol
from uuid import UUID

from domain.signin.external import ExternalIdentity


class ExternalIdentityRepository(Protocol):
    """Links to external providers' accounts inside one unit of work, one per (provider,
    subject). Never commits. `add` of a taken (provider, subject) raises
    `ConflictError`; `delete` of an absent link does nothing; `list_for_user` is in
    linking order."""

    @abstractmethod
    async def get(self, provider: str, subject: str) -> ExternalIdentity | None: ...

    @abstractmethod
    async def add(self, identity: ExternalIdentity) -> None: ...

    @abstractmethod
    async def delete(self, provider: str, subject: str) -> None: ...

    @abstractmethod
    async def list_for_user(self, user_id: UUID) -> list[ExternalIdentity]: ...
