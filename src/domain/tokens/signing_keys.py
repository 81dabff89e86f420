"""Keys that sign access tokens, and how long each keeps verifying after rotation."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class KeyAlgorithm(StrEnum):
    HS256 = "HS256"
    RS256 = "RS256"
    EDDSA = "EdDSA"

    @property
    def is_symmetric(self) -> bool:
        return self is KeyAlgorithm.HS256


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningKey:
    """One signing key. `private_material` is a PEM private key (RS256, EdDSA) or the raw
    secret (HS256); adapters encrypt it at rest. `public_jwk` is what the JWKS publishes
    (None for symmetric keys, which are never published).

    The newest unretired key signs. A retired key keeps verifying until the last token
    it could have signed has expired (`retired_at` + the longest token lifetime)."""

    kid: str
    algorithm: KeyAlgorithm
    private_material: bytes = field(repr=False)
    public_jwk: dict[str, str] | None
    created_at: datetime
    retired_at: datetime | None = None

    def verifies_at(self, now: datetime, *, token_lifetime: timedelta) -> bool:
        return self.retired_at is None or now < self.retired_at + token_lifetime
