from dataclasses import dataclass
from uuid import UUID

from application.access.targets import locked_target
from application.common.security import Principal
from application.common.use_case import Transactional
from domain.access.permissions import Permission
from domain.identity.events import SessionRevoked

REASON = "revoked_by_admin"


@dataclass(frozen=True, slots=True)
class EndUserSessions(Transactional):
    """An administrator signs an account out everywhere (a lost laptop, a departing
    employee, a suspected takeover). Needs `users:write`, and every permission the
    account holds (no managing upwards).

    - Every active session of the account ends at once, on every instance: its refresh
      tokens and the access tokens that carry its id stop working on the next request.
      The password and the account are untouched: the owner can sign in again.
    - Each ended session is audited (`session.revoked`, reason `revoked_by_admin`);
      an account without sessions changes nothing. Unknown account: `not_found`.
    """

    async def execute(self, principal: Principal, user_id: UUID) -> int:
        """How many sessions ended."""
        principal.require(Permission.USERS_WRITE)
        now = self.clock.now()
        async with self.uow_factory() as uow:
            user, _ = await locked_target(uow, principal, user_id)
            ended = await uow.sessions.revoke_all_for_user(user.id, now=now, reason=REASON)
            # Revoked in one statement, not session by session: the events are the
            # unit of work's to record.
            uow.record(
                *(
                    SessionRevoked(occurred_at=now, user_id=user.id, session_id=s, reason=REASON)
                    for s in ended
                )
            )
            await uow.commit(actor_id=principal.actor_id)
        return len(ended)
