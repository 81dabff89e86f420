from dataclasses import dataclass, field
from uuid import UUID

from application.common.use_case import Transactional
from application.errors import InvalidCredentialsError, InvalidTokenError
from application.identity.attempts import PasswordAttempts
from application.identity.mfa_codes import redeem
from application.identity.sessions import SessionOpener
from application.identity.throttle import Throttle
from application.identity.token_pairs import TokenPair
from application.ports.clock import Clock
from application.ports.token_service import MfaTokenService
from application.ports.totp import TotpEngine
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.events import MfaChallengePassed
from domain.user import User


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyMfaCommand:
    mfa_token: str = field(repr=False)
    code: str = field(repr=False)
    """A code from the app, or an unused recovery code."""
    ip: str | None = None
    user_agent: str | None = None


def _wrong_code() -> InvalidCredentialsError:
    return InvalidCredentialsError("invalid authentication code")


class VerifyMfa(Transactional):
    """Complete a login that answered `mfa_required`: the `mfa_token` from that answer
    and a code from the authenticator app, or one of the recovery codes.

    - An expired, forged or otherwise invalid `mfa_token`: `invalid_token`. So is a
      token whose account has turned MFA off since.
    - A TOTP code is accepted once: a code (or an earlier one) whose time step was
      already used is refused like a wrong code (RFC 6238 §5.2). A recovery code works
      once and is then gone; using one is audited with the number left.
    - A wrong code: `invalid_credentials`. Attempts are rate limited like logins (per
      client address and per account) and count towards the same account lockout as
      wrong passwords; a locked or inactive account is refused the same way.
    - Success opens a session exactly as a password login does (same tokens, the same
      reset of the failure count), in one transaction with the used-up code and the
      audit rows.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        mfa_tokens: MfaTokenService,
        engine: TotpEngine,
        opener: SessionOpener,
        attempts: PasswordAttempts,
        throttle: Throttle,
    ) -> None:
        super().__init__(uow_factory, clock)
        self._mfa_tokens = mfa_tokens
        self._engine = engine
        self._opener = opener
        self._attempts = attempts
        self._throttle = throttle

    async def execute(self, command: VerifyMfaCommand) -> TokenPair:
        await self._throttle.login_client()
        user_id = self._mfa_tokens.verify_mfa_token(command.mfa_token)
        # The same budget as the account's password logins.
        await self._throttle.login_account(str(user_id))
        attempt = await self._attempts.reserve(user_id)
        if attempt is None:  # locked, or its budget of guesses is in flight
            await self._attempts.failed(
                user_id, attempt=None, reason="mfa_locked", refuse=_wrong_code
            )
        try:
            completed = await self._complete(user_id, command)
        except BaseException:
            await self._attempts.settle(user_id, User.release_failed_login)
            raise
        if completed is None:
            await self._attempts.failed(
                user_id, attempt=attempt, reason="mfa_invalid_code", refuse=_wrong_code
            )
        return completed

    async def _complete(self, user_id: UUID, command: VerifyMfaCommand) -> TokenPair | None:
        """The session's tokens; None (nothing written) for a wrong code."""
        async with self._uow_factory() as uow:
            user = await uow.users.get(user_id, for_update=True)
            if user is None or not user.is_active:
                raise InvalidCredentialsError()
            factor = await uow.mfa.get(user_id, for_update=True)
            if factor is None or not factor.is_enabled:
                raise InvalidTokenError("two-factor authentication is off; log in again")
            now = self._clock.now()
            method = redeem(factor, command.code, self._engine, now)
            if method is None:
                return None
            await uow.mfa.put(factor)
            uow.record(MfaChallengePassed(occurred_at=now, user_id=user_id, method=method))
            pair = await self._opener.open(uow, user, ip=command.ip, user_agent=command.user_agent)
            await uow.commit(actor_id=user_id)
        return pair
