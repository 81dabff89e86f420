from dataclasses import dataclass
from uuid import UUID

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import SessionNotFoundError


@dataclass(frozen=True, slots=True)
class RevokeOwnSession(Transactional):
    """End one of the caller's own sessions (for example a lost phone).

    Another user's session id answers `not_found`, exactly like an unknown id, so session
    ids of other accounts cannot be probed.
    """

    async def execute(self, principal: Principal, session_id: UUID) -> None:
        principal.require_session()
        now = self.clock.now()
        async with self.uow_factory() as uow:
            session = await uow.sessions.get(session_id)
            if (
                session is None
                or session.user_id != principal.user_id
                or not session.is_active(now)
            ):
                raise SessionNotFoundError()
            session.revoke(now=now, reason="revoked_by_user")
            await uow.sessions.update(session)
            await uow.commit(actor_id=principal.actor_id)
