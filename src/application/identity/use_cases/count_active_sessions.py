from dataclasses import dataclass

from application.ports.clock import Clock
from application.ports.unit_of_work_factory import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class CountActiveSessions:
    """How many sessions, of every user, are active now (neither revoked nor expired).

    Read-only, for operations: one aggregate query per call, so callers sample it on a
    timer rather than per request. Raises `StorageUnavailableError` when the database
    cannot answer.
    """

    uow_factory: UnitOfWorkFactory
    clock: Clock

    async def execute(self) -> int:
        async with self.uow_factory() as uow:
            return await uow.sessions.count_active(now=self.clock.now())
