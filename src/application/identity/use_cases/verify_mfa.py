from dataclasses import dataclass, field
from uuid import UUID

from application.errors import InvalidCredentialsError, InvalidTokenError
from application.identity.attempts import Guarded
from application.identity.mfa_codes import redeem
from application.identity.sessions import SessionOpener
from application.identity.token_pairs import TokenPair
from application.ports.token_service import MfaTokenService
from application.ports.totp import TotpEngine
from domain.identity.events import MfaChallengePassed


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyMfaCommand:
    mfa_token: str = field(repr=False)
    code: str = field(repr=False)
    """A code from the app, or an unused recovery code."""
    ip: str | None = None
    user_agent: str | None = None


def _wrong_code() -> InvalidCredentialsError:
    return InvalidCredentialsError("invalid authentication code")


@dataclass(frozen=True, slots=True)
class VerifyMfa(Guarded):
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

    mfa_tokens: MfaTokenService
    engine: TotpEngine
    opener: SessionOpener

    async def execute(self, command: VerifyMfaCommand) -> TokenPair:
        await self.throttle.login_client()
        user_id = self.mfa_tokens.verify_mfa_token(command.mfa_token)
        # The same budget as the account's password logins.
        await self.throttle.login_account(str(user_id))
        return await self.attempts.counted(
            user_id,
            lambda: self._complete(user_id, command),
            locked="mfa_locked",
            wrong="mfa_invalid_code",
            refuse=_wrong_code,
        )

    async def _complete(self, user_id: UUID, command: VerifyMfaCommand) -> TokenPair | None:
        """The session's tokens; None (nothing written) for a wrong code."""
        async with self.uow_factory() as uow:
            user = await uow.users.get(user_id, for_update=True)
            if user is None or not user.is_active:
                raise InvalidCredentialsError()
            factor = await uow.mfa.get(user_id, for_update=True)
            if factor is None or not factor.is_enabled:
                raise InvalidTokenError("two-factor authentication is off; log in again")
            now = self.clock.now()
            method = redeem(factor, command.code, self.engine, now)
            if method is None:
                return None
            await uow.mfa.put(factor)
            uow.record(MfaChallengePassed(occurred_at=now, user_id=user_id, method=method))
            pair = await self.opener.open(uow, user, ip=command.ip, user_agent=command.user_agent)
            await uow.commit(actor_id=user_id)
        return pair
