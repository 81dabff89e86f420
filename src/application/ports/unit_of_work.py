from abc import abstractmethod
from typing import Protocol
from uuid import UUID

from application.ports.transaction import Transaction
from domain.common.events import DomainEvent


class UnitOfWork(Transaction, Protocol):
    """One transaction, used as `async with uow:`, that also carries what happened.

    `commit()` collects the domain events recorded on every aggregate the repositories
    loaded or added in this unit of work, and those given to `record()` (events that
    belong to no aggregate, such as a failed login, come first). In the same transaction
    it appends their audit rows (the request's facts come from the request context, the
    actor is `actor_id`) and one outbox row each. When a unit of work that committed
    closes (its connection back in the pool), the handlers of the committed moment run
    on this instance and the relay takes over. A change that rolls back leaves no event,
    no audit row and no outbox row.
    """

    @abstractmethod
    def record(self, *events: DomainEvent) -> None:
        """Events that belong to no aggregate, committed with this unit of work."""

    @abstractmethod
    async def commit(self, *, actor_id: UUID | None = None) -> None:
        """`actor_id`: who the audit rows name as having acted (None: nobody, such as
        a failed login, a service client, or the command line)."""
