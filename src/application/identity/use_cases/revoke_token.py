from dataclasses import dataclass
from uuid import UUID

from application.common.use_case import Transactional
from application.errors import InvalidTokenError
from application.ports.session_repository import SessionRepository
from application.ports.token_service import RefreshTokenGenerator, TokenVerifier

# RFC 7009 §2.1 hint value (RFC 7009 §4.1.2 registry), not a credential.
ACCESS_TOKEN_HINT = "access_token"  # noqa: S105


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeTokenCommand:
    token: str
    token_type_hint: str | None = None


@dataclass(frozen=True, slots=True)
class RevokeToken(Transactional):
    """RFC 7009 token revocation.

    - A refresh token or an access token may be given; either revokes the session it
      belongs to (RFC 7009 §2.1 lets the server revoke related tokens too).
    - Invalid, unknown or already revoked tokens are not an error (§2.2): the answer is
      the same, so the endpoint tells nothing about which tokens exist.
    - The hint only decides which kind is tried first (§2.1).
    """

    refresh_tokens: RefreshTokenGenerator
    verifier: TokenVerifier

    async def execute(self, command: RevokeTokenCommand) -> None:
        async with self.uow_factory() as uow:
            if command.token_type_hint == ACCESS_TOKEN_HINT:
                session_id = self._as_access_token(command.token) or await self._as_refresh_token(
                    uow.sessions, command.token
                )
            else:
                session_id = await self._as_refresh_token(
                    uow.sessions, command.token
                ) or self._as_access_token(command.token)
            if session_id is None:
                return
            session = await uow.sessions.get(session_id)
            if session is None or not session.revoke(now=self.clock.now(), reason="revoked"):
                return
            await uow.sessions.update(session)
            await uow.commit(actor_id=session.user_id)

    async def _as_refresh_token(self, sessions: SessionRepository, token: str) -> UUID | None:
        record = await sessions.get_refresh_token(self.refresh_tokens.digest(token))
        return record.session_id if record else None

    def _as_access_token(self, token: str) -> UUID | None:
        try:
            return self.verifier.verify_access_token(token).session_id
        except InvalidTokenError:
            return None
