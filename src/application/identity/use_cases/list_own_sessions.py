from dataclasses import dataclass

from application.common.security import Principal
from application.ports.clock import Clock
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.identity.session import AuthSession


@dataclass(frozen=True, slots=True)
class SessionView:
    session: AuthSession
    current: bool


@dataclass(frozen=True, slots=True)
class ListOwnSessions:
    """The caller's active sessions, newest first, marking the one making the request."""

    uow_factory: UnitOfWorkFactory
    clock: Clock

    async def execute(self, principal: Principal) -> list[SessionView]:
        principal.require_session()
        async with self.uow_factory() as uow:
            sessions = await uow.sessions.list_active_for_user(
                principal.user_id, now=self.clock.now()
            )
        return [SessionView(s, s.id == principal.session_id) for s in sessions]
