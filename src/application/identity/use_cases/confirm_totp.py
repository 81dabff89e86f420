from dataclasses import dataclass, field
from uuid import UUID

from application.common.security import Principal
from application.errors import InvalidMfaCodeError, MfaAlreadyEnabledError, MfaSetupNotStartedError
from application.identity.attempts import Guarded
from application.identity.mfa_codes import new_recovery_codes, recovery_code_digest
from application.identity.revocation import revoke_user_sessions
from application.ports.totp import TotpEngine
from domain.identity.mfa import TotpFactor


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmTotpCommand:
    code: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryCodes:
    codes: tuple[str, ...] = field(repr=False)


@dataclass(frozen=True, slots=True)
class ConfirmTotp(Guarded):
    """Turn two-factor authentication on with a code from the newly set up app.

    - Needs a login session. Without a pending setup, or with MFA already on: `conflict`.
    - A wrong or stale code is refused (`bad_request`, detail type `invalid_mfa_code`)
      and the pending setup stays, so the user can simply try again. Like wrong
      passwords, wrong codes are rate limited per account, count towards the account
      lockout and are audited.
    - The accepted code is used up: it cannot also complete a login.
    - Answers ten single-use recovery codes, shown this once; only their SHA-256
      digests are stored.
    """

    engine: TotpEngine

    async def execute(self, principal: Principal, command: ConfirmTotpCommand) -> RecoveryCodes:
        user_id = await self.own_account(principal)
        async with self.uow_factory() as uow:
            # Refused before an attempt is counted: a state error is no guess.
            _check_pending(await uow.mfa.get(user_id))
        codes = await self.attempts.counted(
            user_id,
            lambda: self._confirm(user_id, principal.require_session(), command.code),
            locked="mfa_confirm_locked",
            wrong="mfa_confirm_invalid_code",
            refuse=InvalidMfaCodeError,
            actor_id=user_id,
        )
        return RecoveryCodes(codes=tuple(codes))

    async def _confirm(self, user_id: UUID, session_id: UUID, code: str) -> list[str] | None:
        codes = new_recovery_codes()
        hashes = frozenset(h for h in map(recovery_code_digest, codes) if h is not None)
        async with self.uow_factory() as uow:
            factor = _check_pending(await uow.mfa.get(user_id, for_update=True))
            now = self.clock.now()
            step = self.engine.verify(factor.secret, "".join(code.split()), now)
            if step is None:
                return None
            factor.confirm(step=step, recovery_code_hashes=hashes, now=now)
            await uow.mfa.put(factor)
            user = await uow.users.get(user_id, for_update=True)
            if user is not None:
                user.release_failed_login()  # a right code hands its attempt back
                await uow.users.update(user)
            # Sessions opened before the second factor existed (perhaps with a stolen
            # password) end now; the one confirming stays.
            await revoke_user_sessions(
                uow.sessions, user_id, now=now, reason="mfa_enabled", keep=session_id
            )
            await uow.commit(actor_id=user_id)
        return codes


def _check_pending(factor: TotpFactor | None) -> TotpFactor:
    if factor is None:
        raise MfaSetupNotStartedError()
    if factor.is_enabled:
        raise MfaAlreadyEnabledError()
    return factor
