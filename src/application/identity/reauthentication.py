"""The one re-authentication rule of every sensitive change to one's own account."""

from datetime import timedelta

from application.common.reauthentication import Reauthenticator
from application.common.security import Principal
from application.errors import (
    ConcurrentUpdateError,
    InvalidCurrentPasswordError,
    ReauthenticationRequiredError,
)
from application.identity.attempts import PasswordAttempts
from application.ports.clock import Clock
from application.ports.password_hasher import PasswordHasher
from application.ports.unit_of_work_factory import UnitOfWorkFactory


class PasswordReauthenticator(Reauthenticator):
    """An account with a password proves it again (`current_password`, a counted attempt
    towards the lockout, as `/me/password` does). An account without one (it signs in
    through an external provider) has nothing to type: its login session must have
    been opened within `window` instead (a fresh sign-in at the provider)."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        hasher: PasswordHasher,
        attempts: PasswordAttempts,
        window: timedelta,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._hasher = hasher
        self._attempts = attempts
        self._window = window

    async def confirm(
        self,
        principal: Principal,
        current_password: str | None,
        *,
        recent_sign_in_suffices: bool = False,
    ) -> None:
        session_id = principal.require_session()
        # Read fresh: the principal's copy of the user may be cached, without its hash.
        async with self._uow_factory() as uow:
            user = await uow.users.get(principal.user_id)
            session = await uow.sessions.get(session_id)
        if user is None:
            raise ConcurrentUpdateError()
        # A refresh keeps `created_at`: only a sign-in makes a session recent.
        recent = session is not None and self._clock.now() - session.created_at <= self._window
        if user.password_hash is None:
            if not recent:
                raise ReauthenticationRequiredError()
            return
        if current_password is None:
            if recent_sign_in_suffices and recent:
                return
            # Not a guess: nothing to count, but the same refusal as a wrong one.
            raise InvalidCurrentPasswordError("current_password is required for this change")
        await self._attempts.verify_password(
            self._hasher,
            user,
            current_password,
            reason="reauth_wrong_password",
            refuse=InvalidCurrentPasswordError,
            on_missing=ConcurrentUpdateError,
        )
