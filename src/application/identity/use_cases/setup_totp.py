from dataclasses import dataclass, field

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import InvalidCurrentPasswordError, MfaAlreadyEnabledError
from application.identity.attempts import PasswordAttempts
from application.ports.password_hasher import PasswordHasher
from application.ports.totp import TotpEngine
from domain.identity.mfa import TotpFactor


@dataclass(frozen=True, slots=True, kw_only=True)
class SetupTotpCommand:
    current_password: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpSetup:
    secret: str = field(repr=False)
    otpauth_uri: str = field(repr=False)
    qr_svg: str = field(repr=False)


@dataclass(frozen=True, slots=True)
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

    engine: TotpEngine
    hasher: PasswordHasher
    attempts: PasswordAttempts
    issuer: str

    async def execute(self, principal: Principal, command: SetupTotpCommand) -> TotpSetup:
        principal.require_session()
        user = principal.account
        await self.attempts.verify_password(
            self.hasher,
            user,
            command.current_password,
            reason="wrong_current_password",
            refuse=InvalidCurrentPasswordError,
        )
        secret = self.engine.new_secret()
        async with self.uow_factory() as uow:
            current = await uow.mfa.get(user.id, for_update=True)
            if current is not None and current.is_enabled:
                raise MfaAlreadyEnabledError()
            pending = TotpFactor(user_id=user.id, secret=secret, created_at=self.clock.now())
            await uow.mfa.put(pending)
            await uow.commit()
        uri = self.engine.provisioning_uri(secret, user.email.value, self.issuer)
        return TotpSetup(secret=secret, otpauth_uri=uri, qr_svg=self.engine.qr_svg(uri))
