from dataclasses import dataclass, field

from application.errors import MfaAlreadyEnabledError
from application.ports.clock import Clock
from application.ports.totp import TotpEngine
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.security import Principal
from domain.mfa import TotpFactor


@dataclass(frozen=True, slots=True, kw_only=True)
class TotpSetup:
    secret: str = field(repr=False)
    otpauth_uri: str = field(repr=False)
    qr_svg: str = field(repr=False)


class SetupTotp:
    """Start enrolling an authenticator app (TOTP, RFC 6238).

    - Needs a login session: an API key cannot add a second factor to its owner.
    - With two-factor authentication already on: `conflict` (disable it first).
    - Returns the seed, an `otpauth://` URI and the same URI as a QR code (SVG). The
      seed is shown only here and stored encrypted.
    - Creates a pending factor that protects nothing until it is confirmed; starting
      again replaces it, so an abandoned setup costs nothing.
    """

    def __init__(
        self, uow_factory: UnitOfWorkFactory, engine: TotpEngine, clock: Clock, issuer: str
    ) -> None:
        self._uow_factory = uow_factory
        self._engine = engine
        self._clock = clock
        self._issuer = issuer

    async def execute(self, principal: Principal) -> TotpSetup:
        principal.require_session()
        user = principal.account
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
