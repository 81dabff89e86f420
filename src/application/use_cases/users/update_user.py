from dataclasses import dataclass
from uuid import UUID

from application.access import grantable_roles, permissions_for
from application.audit import Auditor
from application.errors import LastAdministratorError, UserNotFoundError
from application.names import clears_full_name, optional_full_name
from application.ports.clock import Clock
from application.ports.email_normaliser import EmailNormaliser
from application.ports.event_publisher import EventPublisher
from application.ports.unit_of_work import UnitOfWork
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.revocation import SessionRevoker, revoke_user_sessions
from application.security import Principal
from application.uniqueness import ensure_identity_free
from domain.permissions import Permission
from domain.session import AuthSession
from domain.user import User
from domain.value_objects import Username


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateUserCommand:
    """None leaves a field as it is. A replacement (PUT) passes every field, with
    `clear_full_name` when the full name is to be removed."""

    email: str | None = None
    username: str | None = None
    full_name: str | None = None
    clear_full_name: bool = False
    is_active: bool | None = None
    is_verified: bool | None = None
    roles: list[str] | None = None


class UpdateUser:
    """An administrator changes an account (both PUT and PATCH). Needs `users:write`.

    - Email and username stay unique (`conflict`); a new email clears `is_verified`
      unless the same request sets it.
    - Roles must exist, and the caller must hold every permission they grant (no
      escalation). Role changes act on the user's next request.
    - Nobody changes an account more powerful than themselves (`forbidden`).
    - Deactivating an account revokes all its sessions at once.
    - The last active administrator cannot be deactivated or lose the admin role
      (`conflict`), so the service never locks its operators out.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        revoker: SessionRevoker,
        clock: Clock,
        events: EventPublisher,
        auditor: Auditor,
        emails: EmailNormaliser,
    ) -> None:
        self._emails = emails
        self._uow_factory = uow_factory
        self._revoker = revoker
        self._clock = clock
        self._events = events
        self._auditor = auditor

    async def execute(
        self, principal: Principal, user_id: UUID, command: UpdateUserCommand
    ) -> User:
        principal.require(Permission.USERS_WRITE)
        email = self._emails.normalise(command.email) if command.email is not None else None
        username = Username(command.username) if command.username is not None else None
        full_name = optional_full_name(command.full_name)
        now = self._clock.now()
        async with self._uow_factory() as uow:
            roles = None
            if command.roles is not None:
                roles = await grantable_roles(uow.roles, principal, command.roles)
            user, active_admins = await locked_target(uow, principal, user_id)
            await ensure_identity_free(uow.users, email=email, username=username, owner_id=user.id)
            was_admin = user.is_admin and user.is_active
            changed = user.update(
                now=now,
                email=email,
                username=username,
                full_name=full_name,
                clear_full_name=clears_full_name(
                    command.full_name, explicit_clear=command.clear_full_name
                ),
                is_active=command.is_active,
                is_verified=command.is_verified,
                roles=roles,
            )
            if was_admin and not (user.is_admin and user.is_active) and active_admins <= 1:
                raise LastAdministratorError()
            revoked: list[AuthSession] = []
            if "is_active" in changed and not user.is_active:
                revoked = await revoke_user_sessions(
                    uow.sessions, user.id, now=now, reason="user_deactivated"
                )
            events = []
            if changed:
                await uow.users.update(user)
                events = await self._auditor.commit(
                    uow, user, *revoked, actor_id=principal.actor_id
                )
        await self._revoker.announce([s.id for s in revoked])
        await self._events.publish(events)
        return user


async def locked_target(uow: UnitOfWork, principal: Principal, user_id: UUID) -> tuple[User, int]:
    """The account to change, locked, and the number of active administrators, locked
    first: one lock order for every writer, so concurrent demotions cannot deadlock and
    the last-administrator rule holds. The caller must hold every permission the account
    holds (no managing upwards: a support agent cannot redirect an admin's email)."""
    active_admins = await uow.users.count_active_admins(lock=True)
    user = await uow.users.get(user_id, for_update=True)
    if user is None:
        raise UserNotFoundError()
    principal.may_manage(user.id, await permissions_for(uow.roles, user.roles))
    return user, active_admins
