"""Minting a token pair for a session: shared by log-in and refresh."""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from application.ports.clock import Clock
from application.ports.token_service import RefreshTokenGenerator, TokenIssuer
from domain.identity.session import AuthSession, RefreshTokenRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    session_id: UUID
    token_type: str = "bearer"  # noqa: S105 - the RFC 6750 scheme name, not a secret


class TokenMinter:
    """Creates an access token and a fresh refresh token for a session.

    The refresh token leaves only in the returned pair; what gets stored is its digest.
    """

    def __init__(
        self,
        issuer: TokenIssuer,
        refresh_tokens: RefreshTokenGenerator,
        clock: Clock,
        refresh_token_ttl_seconds: int,
    ) -> None:
        self._issuer = issuer
        self._refresh_tokens = refresh_tokens
        self._clock = clock
        self._refresh_ttl = refresh_token_ttl_seconds

    @property
    def refresh_ttl(self) -> timedelta:
        return timedelta(seconds=self._refresh_ttl)

    def mint(self, session: AuthSession) -> tuple[TokenPair, RefreshTokenRecord]:
        now = self._clock.now()
        access = self._issuer.issue_access_token(subject=session.user_id, session_id=session.id)
        refresh = self._refresh_tokens.new_token()
        record = RefreshTokenRecord(
            token_hash=self._refresh_tokens.digest(refresh),
            session_id=session.id,
            created_at=now,
            expires_at=session.expires_at,
        )
        pair = TokenPair(
            access_token=access.token,
            refresh_token=refresh,
            expires_in=self._issuer.access_token_ttl_seconds,
            refresh_expires_in=max(0, int((session.expires_at - now).total_seconds())),
            session_id=session.id,
        )
        return pair, record
