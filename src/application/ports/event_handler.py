from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from application.ports.event_outbox import OutboxEvent
from domain.common.events import DomainEvent


@dataclass(frozen=True, slots=True)
class Committed:
    """A committed domain event with the outbox row it left as."""

    row: OutboxEvent
    event: DomainEvent


class EventHandler(Protocol):
    """What follows a commit, for a batch of committed events in commit order.

    Handlers are idempotent: the relay hands an event over at least once (after a crash,
    or when a later handler of the same batch failed). A handler that raises on the
    committing instance is reported and the use case still succeeds (its change is
    durable); one that raises in the relay makes the relay keep the batch and retry.
    """

    @abstractmethod
    async def handle(self, events: Sequence[Committed]) -> None: ...
