from dataclasses import dataclass
from uuid import UUID

from application.access.targets import locked_target
from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import LastAdministratorError
from domain.access.permissions import Permission


@dataclass(frozen=True, slots=True)
class DeleteUser(Transactional):
    """An administrator deletes an account and, with it, all its sessions and keys.

    Needs `users:write`. The last active administrator cannot be deleted (`conflict`).
    Tokens and keys of the deleted account stop working on the next request; its audit
    trail stays.
    """

    async def execute(self, principal: Principal, user_id: UUID) -> None:
        principal.require(Permission.USERS_WRITE)
        now = self.clock.now()
        async with self.uow_factory() as uow:
            user, active_admins = await locked_target(uow, principal, user_id)
            if user.is_admin and user.is_active and active_admins <= 1:
                raise LastAdministratorError()
            sessions = await uow.sessions.list_active_for_user(user.id, now=now)
            user.mark_deleted(now=now, session_ids=[s.id for s in sessions])
            await uow.users.delete(user.id)
            await uow.commit(actor_id=principal.actor_id)
