from abc import abstractmethod
from typing import Protocol
from uuid import UUID

from domain.signin.authorization import Consent


class ConsentRepository(Protocol):
    """Consents inside one unit of work, one per (user, client). Never commits.

    `put` adds or replaces; `delete` of an absent consent does nothing. `list_for_user`
    is newest first."""

    @abstractmethod
    async def get(self, user_id: UUID, client_id: str) -> Consent | None: ...

    @abstractmethod
    async def put(self, consent: Consent) -> None: ...

    @abstractmethod
    async def delete(self, user_id: UUID, client_id: str) -> None: ...

    @abstractmethod
    async def list_for_user(self, user_id: UUID) -> list[Consent]: ...
