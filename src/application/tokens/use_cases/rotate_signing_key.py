from application.audit.describe import Auditor
from application.common.security import Principal
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.unit_of_work import UnitOfWork
from application.tokens.key_ring import KeyRing
from domain.events import SigningKeyRotated
from domain.permissions import Permission
from domain.signing_keys import SigningKey


class RotateSigningKey:
    """Add a new active signing key and retire the current one, audited in the same
    transaction. Needs `keys:manage` (or the command line, as `principal=None`).

    Tokens signed before keep verifying until they expire; new tokens carry the new
    `kid`; every instance signs with it within one key refresh (30 s by default).
    Operator-supplied keys (files) and HS256 from JWT_SECRET cannot be rotated here
    (`conflict`): rotate those by replacing the files or the secret.
    """

    def __init__(
        self, ring: KeyRing, clock: Clock, events: EventPublisher, auditor: Auditor
    ) -> None:
        self._ring = ring
        self._clock = clock
        self._events = events
        self._auditor = auditor

    async def execute(self, principal: Principal | None) -> SigningKey:
        if principal is not None:
            principal.require(Permission.KEYS_MANAGE)
        actor = principal.actor_id if principal is not None else None
        published = []

        async def audit(uow: UnitOfWork, new: SigningKey, retired: list[str]) -> None:
            event = SigningKeyRotated(
                occurred_at=self._clock.now(),
                kid=new.kid,
                retired_kid=retired[0] if retired else None,
            )
            await self._auditor.append(uow, [event], actor_id=actor)
            published.append(event)

        new = await self._ring.rotate(self._ring.signing_algorithm, before_commit=audit)
        await self._events.publish(published)
        return new
