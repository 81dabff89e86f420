from application.audit.describe import Auditor
from application.common.security import Principal
from application.identity.revocation import SessionRevoker, revoke_user_sessions
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.unit_of_work_factory import UnitOfWorkFactory


class LogOut:
    """End the caller's current session: its refresh token and every access token that
    carries its id stop working at once, on every instance."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        revoker: SessionRevoker,
        clock: Clock,
        events: EventPublisher,
        auditor: Auditor,
    ) -> None:
        self._auditor = auditor
        self._uow_factory = uow_factory
        self._revoker = revoker
        self._clock = clock
        self._events = events

    async def execute(self, principal: Principal) -> None:
        session_id = principal.require_session()
        async with self._uow_factory() as uow:
            session = await uow.sessions.get(session_id)
            if session is None or not session.revoke(now=self._clock.now(), reason="logout"):
                return
            await uow.sessions.update(session)
            events = await self._auditor.commit(uow, session, actor_id=principal.actor_id)
        await self._revoker.announce([session.id])
        await self._events.publish(events)


class LogOutEverywhere:
    """End every session of the caller, the current one included."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        revoker: SessionRevoker,
        clock: Clock,
        events: EventPublisher,
        auditor: Auditor,
    ) -> None:
        self._auditor = auditor
        self._uow_factory = uow_factory
        self._revoker = revoker
        self._clock = clock
        self._events = events

    async def execute(self, principal: Principal) -> None:
        principal.require_session()
        async with self._uow_factory() as uow:
            revoked = await revoke_user_sessions(
                uow.sessions, principal.user_id, now=self._clock.now(), reason="logout_all"
            )
            events = await self._auditor.commit(uow, *revoked, actor_id=principal.actor_id)
        await self._revoker.announce([s.id for s in revoked])
        await self._events.publish(events)
