from dataclasses import dataclass

from application.common.security import Principal
from application.tokens.key_ring import KeyRing
from domain.access.permissions import Permission
from domain.tokens.signing_keys import SigningKey


@dataclass(frozen=True, slots=True)
class RotateSigningKey:
    """Add a new active signing key and retire the current one, audited in the same
    transaction. Needs `keys:manage` (or the command line, as `principal=None`).

    Tokens signed before keep verifying until they expire; new tokens carry the new
    `kid`; every instance signs with it within one key refresh (30 s by default).
    Operator-supplied keys (files) and HS256 from JWT_SECRET cannot be rotated here
    (`conflict`): rotate those by replacing the files or the secret.
    """

    ring: KeyRing

    async def execute(self, principal: Principal | None) -> SigningKey:
        if principal is not None:
            principal.require(Permission.KEYS_MANAGE)
        actor = principal.actor_id if principal is not None else None
        return await self.ring.rotate(self.ring.signing_algorithm, actor_id=actor)
