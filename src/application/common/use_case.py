from application.ports.clock import Clock
from application.ports.unit_of_work_factory import UnitOfWorkFactory


class Transactional:
    """What most use cases hold: a fresh unit of work per transaction, and the time.

    Everything else that follows a commit (audit rows, events, revocations, cache
    invalidation) is the unit of work's business, not the use case's."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
