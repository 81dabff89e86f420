from dataclasses import dataclass

from application.audit import Auditor
from application.errors import UserNotFoundError
from application.names import clears_full_name, optional_full_name
from application.ports.clock import Clock
from application.ports.email_normaliser import EmailNormaliser
from application.ports.event_publisher import EventPublisher
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.security import Principal
from application.uniqueness import ensure_identity_free
from domain.user import User
from domain.value_objects import Username


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateOwnProfileCommand:
    """Fields left as None are not changed; `clear_full_name` removes the full name."""

    email: str | None = None
    username: str | None = None
    full_name: str | None = None
    clear_full_name: bool = False


class UpdateOwnProfile:
    """Change one's own email, username or full name.

    - A new email must be free (`conflict`) and clears `is_verified`.
    - A new username must be free (`conflict`).
    - Roles, activity and verification are not the caller's to change here.
    - Needs a login session: an API key cannot rewrite its owner's identity.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        events: EventPublisher,
        auditor: Auditor,
        emails: EmailNormaliser,
    ) -> None:
        self._emails = emails
        self._auditor = auditor
        self._uow_factory = uow_factory
        self._clock = clock
        self._events = events

    async def execute(self, principal: Principal, command: UpdateOwnProfileCommand) -> User:
        principal.require_session()
        email = self._emails.normalise(command.email) if command.email is not None else None
        username = Username(command.username) if command.username is not None else None
        full_name = optional_full_name(command.full_name)
        async with self._uow_factory() as uow:
            user = await uow.users.get(principal.user_id, for_update=True)
            if user is None:
                raise UserNotFoundError()
            await ensure_identity_free(uow.users, email=email, username=username, owner_id=user.id)
            if user.update(
                now=self._clock.now(),
                email=email,
                username=username,
                full_name=full_name,
                clear_full_name=clears_full_name(
                    command.full_name, explicit_clear=command.clear_full_name
                ),
            ):
                await uow.users.update(user)
                events = await self._auditor.commit(uow, user, actor_id=user.id)
            else:
                events = []
        await self._events.publish(events)
        return user
