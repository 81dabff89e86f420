from dataclasses import dataclass

from application.common.security import Principal
from application.ports.clock import Clock
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.session import AuthSession


@dataclass(frozen=True, slots=True)
class SessionView:
    session: AuthSession
    current: bool


class ListOwnSessions:
    """The caller's active sessions, newest first, marking the one making the request."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def execute(self, principal: Principal) -> list[SessionView]:
        principal.require_session()
        async with self._uow_factory() as uow:
            sessions = await uow.sessions.list_active_for_user(
                principal.user_id, now=self._clock.now()
            )
        return [SessionView(s, s.id == principal.session_id) for s in sessions]
