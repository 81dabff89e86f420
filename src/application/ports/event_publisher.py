from abc import abstractmethod
from collections.abc import Sequence
from typing import Protocol

from domain.common.events import DomainEvent


class EventPublisher(Protocol):
    """Hands domain events on after the transaction that produced them committed.

    Publishing must not fail the use case: the change is already durable.
    """

    @abstractmethod
    async def publish(self, events: Sequence[DomainEvent]) -> None: ...
