from dataclasses import dataclass, field

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import InvalidCurrentPasswordError, MfaAlreadyEnabledError
from application.identity.attempts import PasswordAttempts
from application.ports.clock import Clock
from application.ports.password_hasher import PasswordHasher
from application.ports.totp import TotpEngine
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from domain.mfa import TotpFactor


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupTotpCommand:
    current_password: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpSetup:
    secret: str = field(repr=False)
    otpauth_uri: str = field(repr=False)
    qr_svg: str = field(repr=False)


class SetupTotp(Transactional):
    """Start enrolling an authenticator app (TOTP, RFC 6238).

    - Needs a login session and the current password: a stolen access token must not
      be able to put a second factor in front of the owner's account. Wrong passwords
      count towards the lockout.
    - With two-factor authentication already on: `conflict` (disable it first).
    - Returns the seed, an `otpauth://` URI and the same URI as a QR code (SVG). The
      seed is shown only here and stored encrypted.
    - Creates a pending factor that protects nothing until it is confirmed; starting
      again replaces it, so an abandoned setup costs nothing.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        engine: TotpEngine,
        hasher: PasswordHasher,
        attempts: PasswordAttempts,
        *,
        issuer: str,
    ) -> None:
        super().__init__(uow_factory, clock)
        self._engine = engine
        self._hasher = hasher
        self._attempts = attempts
        self._issuer = issuer

    async def execute(self, principal: Principal, command: SetupTotpCommand) -> TotpSetup:
        principal.require_session()
        user = principal.account
        await self._attempts.verify_password(
            self._hasher,
            user,
            command.current_password,
            reason="wrong_current_password",
            refuse=InvalidCurrentPasswordError,
        )
        secret = self._engine.new_secret()
        async with self._uow_factory() as uow:
            current = await uow.mfa.get(user.id, for_update=True)
            if current is not None and current.is_enabled:
                raise MfaAlreadyEnabledError()
            pending = TotpFactor(user_id=user.id, secret=secret, created_at=self._clock.now())
            await uow.mfa.put(pending)
            await uow.commit()
        uri = self._engine.provisioning_uri(secret, user.email.value, self._issuer)
        return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=self._engine.qr_svg(uri))
