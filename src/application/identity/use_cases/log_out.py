from dataclasses import dataclass

from application.common.security import Principal
from application.common.use_case import Transactional
from application.identity.revocation import revoke_user_sessions


@dataclass(frozen=True, slots=True)
class LogOut(Transactional):
    """End the caller's current session: its refresh token and every access token that
    carries its id stop working at once, on every instance."""

    async def execute(self, principal: Principal) -> None:
        session_id = principal.require_session()
        async with self.uow_factory() as uow:
            session = await uow.sessions.get(session_id)
            if session is None or not session.revoke(now=self.clock.now(), reason="logout"):
                return
            await uow.sessions.update(session)
            await uow.commit(actor_id=principal.actor_id)


@dataclass(frozen=True, slots=True)
class LogOutEverywhere(Transactional):
    """End every session of the caller, the current one included."""

    async def execute(self, principal: Principal) -> None:
        principal.require_session()
        async with self.uow_factory() as uow:
            await revoke_user_sessions(
                uow.sessions, principal.user_id, now=self.clock.now(), reason="logout_all"
            )
            await uow.commit(actor_id=principal.actor_id)
