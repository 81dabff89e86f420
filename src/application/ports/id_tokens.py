from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class IdTokenHint:
    """What a presented id_token proves once its signature and issuer hold."""

    subject: UUID
    audience: str
    session_id: UUID | None


class IdTokenService(Protocol):
    """OpenID Connect id_tokens (Core §2), always signed with an asymmetric key (RS256 or
    EdDSA) published in the JWKS, whatever signs access tokens.

    `issue_id_token` raises `ServiceUnavailableError` when no signing key is loaded.
    `read_hint` checks an `id_token_hint` (RP-Initiated Logout §2): signature and
    issuer must hold, expiry is not required (the hint is often an old token); anything
    else raises `InvalidTokenError`."""

    @property
    @abstractmethod
    def issuer(self) -> str: ...

    @property
    @abstractmethod
    def algorithms(self) -> list[str]:
        """For discovery: `id_token_signing_alg_values_supported`."""

    @abstractmethod
    def issue_id_token(
        self,
        *,
        subject: UUID,
        audience: str,
        auth_time: datetime,
        nonce: str | None,
        session_id: UUID,
        claims: Mapping[str, object],
    ) -> str: ...

    @abstractmethod
    def read_hint(self, token: str) -> IdTokenHint: ...
