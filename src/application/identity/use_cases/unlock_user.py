from dataclasses import dataclass
from uuid import UUID

from application.access.targets import locked_target
from application.common.security import Principal
from application.common.use_case import Transactional
from application.identity.throttle import Throttle
from domain.access.permissions import Permission
from domain.identity.user import User


@dataclass(frozen=True, slots=True)
class UnlockUser(Transactional):
    """Lift a login lockout now and forget the failures behind it. Needs `users:write`.
    Audited; unlocking an account that is not locked changes nothing in the account.
    Either way the account's sign-in rate budget is forgotten too, so the owner can
    sign in at once rather than meet a 429 for the rest of its window."""

    throttle: Throttle

    async def execute(self, principal: Principal, user_id: UUID) -> User:
        principal.require(Permission.USERS_WRITE)
        async with self.uow_factory() as uow:
            user, _ = await locked_target(uow, principal, user_id)
            if user.unlock(now=self.clock.now()):
                await uow.users.update(user)
                await uow.commit(actor_id=principal.actor_id)
        await self.throttle.forget_login_account(str(user.id))
        return user
