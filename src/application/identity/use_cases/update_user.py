from dataclasses import dataclass
from uuid import UUID

from application.access.permissions import grantable_roles
from application.access.targets import locked_target
from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import LastAdministratorError, PermissionDeniedError
from application.identity.names import clears_full_name, optional_full_name
from application.identity.notices import ChangeNotices, LoginNames
from application.identity.revocation import revoke_user_sessions
from application.identity.uniqueness import ensure_identity_free
from application.ports.email_normaliser import EmailNormaliser
from domain.access.permissions import Permission
from domain.identity.user import User
from domain.identity.value_objects import Username


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


@dataclass(frozen=True, slots=True)
class UpdateUser(Transactional):
    """An administrator changes an account (both PUT and PATCH). Needs `users:write`.

    - Email and username stay unique (`conflict`); a new email clears `is_verified`
      unless the same request sets it.
    - Roles must exist, and the caller must hold every permission they grant (no
      escalation). Role changes act on the user's next request.
    - Nobody changes an account more powerful than themselves (`forbidden`).
    - One's own email or username is changed at `/auth/me`, with the password
      (`forbidden` here): an administrator's stolen access token must not dodge the
      re-authentication that path asks for.
    - The address an account had before an email or username change gets a notice.
    - Deactivating an account revokes all its sessions at once.
    - The last active administrator cannot be deactivated or lose the admin role
      (`conflict`), so the service never locks its operators out.
    """

    emails: EmailNormaliser
    notices: ChangeNotices

    async def execute(
        self, principal: Principal, user_id: UUID, command: UpdateUserCommand
    ) -> User:
        principal.require(Permission.USERS_WRITE)
        email = self.emails.normalise(command.email) if command.email is not None else None
        username = Username(command.username) if command.username is not None else None
        full_name = optional_full_name(command.full_name)
        now = self.clock.now()
        async with self.uow_factory() as uow:
            roles = None
            if command.roles is not None:
                roles = await grantable_roles(uow.roles, principal, command.roles)
            user, active_admins = await locked_target(uow, principal, user_id)
            before = LoginNames.of(user)
            if user.id == principal.actor_id and before.changed_by(email, username):
                raise PermissionDeniedError(
                    "change your own email or username at /api/v1/auth/me, with your password"
                )
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
            if "is_active" in changed and not user.is_active:
                await revoke_user_sessions(
                    uow.sessions, user.id, now=now, reason="user_deactivated"
                )
            noticed = False
            if changed:
                await uow.users.update(user)
                noticed = await self.notices.queue(uow, before, user, now)
                await uow.commit(actor_id=principal.actor_id)
        if noticed:
            self.notices.wake()
        return user
