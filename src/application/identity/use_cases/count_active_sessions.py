from application.ports.clock import Clock
from application.ports.unit_of_work_factory import UnitOfWorkFactory


class CountActiveSessions:
    """How many sessions, of every user, are active now (neither revoked nor expired).

    Read-only, for operations: one aggregate query per call, so callers sample it on a
    timer rather than per request. Raises `StorageUnavailableError` when the database
    cannot answer.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self) -> int:
        async with self._uow_factory() as uow:
            return await uow.sessions.count_active(now=self._clock.now())
