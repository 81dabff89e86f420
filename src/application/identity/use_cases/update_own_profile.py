from dataclasses import dataclass

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import UserNotFoundError
from application.identity.names import clears_full_name, optional_full_name
from application.identity.uniqueness import ensure_identity_free
from application.ports.email_normaliser import EmailNormaliser
from domain.identity.user import User
from domain.identity.value_objects import Username


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateOwnProfileCommand:
    """Fields left as None are not changed; `clear_full_name` removes the full name."""

    email: str | None = None
    username: str | None = None
    full_name: str | None = None
    clear_full_name: bool = False


@dataclass(frozen=True, slots=True)
class UpdateOwnProfile(Transactional):
    """Change one's own email, username or full name.

    - A new email must be free (`conflict`) and clears `is_verified`.
    - A new username must be free (`conflict`).
    - Roles, activity and verification are not the caller's to change here.
    - Needs a login session: an API key cannot rewrite its owner's identity.
    """

    emails: EmailNormaliser

    async def execute(self, principal: Principal, command: UpdateOwnProfileCommand) -> User:
        principal.require_session()
        email = self.emails.normalise(command.email) if command.email is not None else None
        username = Username(command.username) if command.username is not None else None
        full_name = optional_full_name(command.full_name)
        async with self.uow_factory() as uow:
            user = await uow.users.get(principal.user_id, for_update=True)
            if user is None:
                raise UserNotFoundError()
            await ensure_identity_free(uow.users, email=email, username=username, owner_id=user.id)
            if user.update(
                now=self.clock.now(),
                email=email,
                username=username,
                full_name=full_name,
                clear_full_name=clears_full_name(
                    command.full_name, explicit_clear=command.clear_full_name
                ),
            ):
                await uow.users.update(user)
                await uow.commit(actor_id=user.id)
        return user
