from dataclasses import dataclass, field

from application.common.reauthentication import Reauthenticator
from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import ConcurrentUpdateError, UserNotFoundError
from application.identity.names import clears_full_name, optional_full_name
from application.identity.notices import ChangeNotices, LoginNames
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
    current_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class UpdateOwnProfile(Transactional):
    """Change one's own email, username or full name.

    - Changing the email is a sensitive change (OWASP ASVS 5.0 V7.5.1): it needs
      `current_password` (a wrong or missing one: `bad_request`, detail type
      `invalid_current_password`, and wrong ones count towards the lockout). An account
      without a password (it signs in elsewhere) needs a sign-in within the last
      REAUTH_WINDOW_SECONDS instead (detail type `reauthentication_required`). A stolen
      access token alone can therefore not move the account's mail, and with it its
      password resets, to an attacker.
    - Changing the username needs the same, except that a login session opened within
      REAUTH_WINDOW_SECONDS stands in for the password ("sudo mode"): a username is
      a name to sign in by, not where recovery goes. Sending back the current email or
      username, or changing only the full name, needs no password.
    - A new email must be free (`conflict`) and clears `is_verified`.
    - A new username must be free (`conflict`).
    - The address the account had before gets a notice of the change, sent through the
      mail outbox in the same transaction.
    - Roles, activity and verification are not the caller's to change here.
    - Needs a login session: an API key cannot rewrite its owner's identity.
    """

    emails: EmailNormaliser
    reauthenticator: Reauthenticator
    notices: ChangeNotices

    async def execute(self, principal: Principal, command: UpdateOwnProfileCommand) -> User:
        principal.require_session()
        email = self.emails.normalise(command.email) if command.email is not None else None
        username = Username(command.username) if command.username is not None else None
        full_name = optional_full_name(command.full_name)
        # Judged on a fresh read: the principal's copy of the account may be cached.
        async with self.uow_factory() as uow:
            current = await uow.users.get(principal.user_id)
        if current is None:
            raise UserNotFoundError()
        before_change = LoginNames.of(current)
        confirmed = before_change.changed_by(email, username)
        if confirmed:
            await self.reauthenticator.confirm(
                principal,
                command.current_password,
                # Password resets go to the email; a username is only a name to sign in by.
                recent_sign_in_suffices=not before_change.changed_by(email, None),
            )
        noticed = False
        async with self.uow_factory() as uow:
            user = await uow.users.get(principal.user_id, for_update=True)
            if user is None:
                raise UserNotFoundError()
            before = LoginNames.of(user)
            if not confirmed and before.changed_by(email, username):
                raise ConcurrentUpdateError()  # changed meanwhile: what was judged is gone
            await ensure_identity_free(uow.users, email=email, username=username, owner_id=user.id)
            now = self.clock.now()
            if user.update(
                now=now,
                email=email,
                username=username,
                full_name=full_name,
                clear_full_name=clears_full_name(
                    command.full_name, explicit_clear=command.clear_full_name
                ),
            ):
                await uow.users.update(user)
                noticed = await self.notices.queue(uow, before, user, now)
                await uow.commit(actor_id=user.id)
        if noticed:
            self.notices.wake()
        return user
