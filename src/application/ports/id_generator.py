from abc import abstractmethod
from typing import Protocol
from uuid import UUID


class IdGenerator(Protocol):
    """New entity ids: unique and increasing in time (UUIDv7), so keyset pagination by id
    is creation order."""

    @abstractmethod
    def new_id(self) -> UUID: ...
