from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work_factory import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Transactional:
    """What most use cases hold: a fresh unit of work per transaction, and the time.

    Use cases are frozen dataclasses of their collaborators, built once by the
    container. Everything that follows a commit (audit rows, events, revocations, cache
    invalidation) is the unit of work's business, not the use case's."""

    uow_factory: UnitOfWorkFactory
    clock: Clock
