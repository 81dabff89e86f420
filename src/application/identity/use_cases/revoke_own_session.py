from uuid import UUID

from application.audit.describe import Auditor
from application.common.security import Principal
from application.errors import SessionNotFoundError
from application.identity.revocation import SessionRevoker
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.unit_of_work_factory import UnitOfWorkFactory


class RevokeOwnSession:
    """End one of the caller's own sessions (for example a lost phone).

    Another user's session id answers `not_found`, exactly like an unknown id, so session
    ids of other accounts cannot be probed.
    """

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

    async def execute(self, principal: Principal, session_id: UUID) -> None:
        principal.require_session()
        now = self._clock.now()
        async with self._uow_factory() as uow:
            session = await uow.sessions.get(session_id)
            if (
                session is None
                or session.user_id != principal.user_id
                or not session.is_active(now)
            ):
                raise SessionNotFoundError()
            session.revoke(now=now, reason="revoked_by_user")
            await uow.sessions.update(session)
            events = await self._auditor.commit(uow, session, actor_id=principal.actor_id)
        await self._revoker.announce([session.id])
        await self._events.publish(events)
