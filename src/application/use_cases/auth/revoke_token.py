from dataclasses import dataclass

from application.errors import InvalidTokenError
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.token_service import RefreshTokenGenerator, TokenVerifier
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.revocation import SessionRevoker


@dataclass(frozen=True, slots=True, kw_only=True)
class RevokeTokenCommand:
    token: str
    token_type_hint: str | None = None


class RevokeToken:
    """RFC 7009 token revocation.

    - A refresh token or an access token may be given; either revokes the session it
      belongs to (RFC 7009 §2.1 lets the server revoke related tokens too).
    - Invalid, unknown or already revoked tokens are not an error (§2.2): the answer is
      the same, so the endpoint tells nothing about which tokens exist.
    - The hint only decides which kind is tried first (§2.1).
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        refresh_tokens: RefreshTokenGenerator,
        verifier: TokenVerifier,
        revoker: SessionRevoker,
        clock: Clock,
        events: EventPublisher,
    ) -> None:
        self._uow_factory = uow_factory
        self._refresh_tokens = refresh_tokens
        self._verifier = verifier
        self._revoker = revoker
        self._clock = clock
        self._events = events

    async def execute(self, command: RevokeTokenCommand) -> None:
        async with self._uow_factory() as uow:
            session_id = None
            record = await uow.sessions.get_refresh_token(
                self._refresh_tokens.digest(command.token)
            )
            if record is not None:
                session_id = record.session_id
            else:
                try:
                    session_id = self._verifier.verify_access_token(command.token).session_id
                except InvalidTokenError:
                    return
            session = await uow.sessions.get(session_id)
            if session is None or not session.revoke(now=self._clock.now(), reason="revoked"):
                return
            await uow.sessions.update(session)
            await uow.commit()
        await self._revoker.announce([session.id])
        await self._events.publish(session.pull_events())
