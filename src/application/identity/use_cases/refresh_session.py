from dataclasses import dataclass
from datetime import timedelta

from application.common.use_case import Transactional
from application.errors import InvalidTokenError, RefreshTokenReuseError
from application.identity.token_pairs import TokenMinter, TokenPair
from application.ports.token_service import RefreshTokenGenerator


@dataclass(frozen=True, slots=True, kw_only=True)
class RefreshSessionCommand:
    refresh_token: str


@dataclass(frozen=True, slots=True)
class RefreshSession(Transactional):
    """Trade a refresh token for a new token pair (rotation).

    - Each refresh token works once: the old one dies and a new one is returned.
    - Presenting a rotated token again is treated as theft (OAuth 2.0 Security BCP
      §4.14.2): the whole session is revoked, including its newest tokens.
    - Requests racing with one token (two tabs, a retried request) succeed exactly once:
      a token rotated less than `reuse_grace` ago is refused without revoking anything,
      so the winner's new tokens stay valid. A grace of zero makes every second use a
      theft.
    - Unknown, expired or revoked tokens, and tokens of inactive or deleted users, are
      refused with `invalid_token`.
    - Each rotation extends the session by one refresh lifetime (sliding expiry).
    """

    refresh_tokens: RefreshTokenGenerator
    minter: TokenMinter
    reuse_grace: timedelta

    async def execute(self, command: RefreshSessionCommand) -> TokenPair:
        digest = self.refresh_tokens.digest(command.refresh_token)
        now = self.clock.now()
        async with self.uow_factory() as uow:
            record = await uow.sessions.get_refresh_token(digest)
            session = await uow.sessions.get(record.session_id) if record else None
            if record is None or session is None:
                raise InvalidTokenError()
            first_use = record.rotated_at is None and (
                await uow.sessions.mark_refresh_token_rotated(digest, now=now)
            )
            if not first_use:
                # None: rotated by a request that committed after our read, i.e. a race.
                rotated_at = record.rotated_at
                racing = rotated_at is None or now - rotated_at <= self.reuse_grace
                if racing and self.reuse_grace:
                    raise InvalidTokenError("refresh token was already used")
                if not session.revoke_for_reuse(now=now):
                    raise RefreshTokenReuseError()  # already revoked: nothing to write
                await uow.sessions.update(session)
                await uow.commit()  # nobody acted: a thief, or the owner's stale copy
                raise RefreshTokenReuseError()
            user = await uow.users.get(session.user_id)
            if (
                user is None
                or not user.is_active
                or not session.is_active(now)
                or record.expires_at <= now
            ):
                raise InvalidTokenError()
            session.refreshed(now=now, expires_at=now + self.minter.refresh_ttl)
            pair, new_record = self.minter.mint(session)
            await uow.sessions.update(session)
            await uow.sessions.add_refresh_token(new_record)
            await uow.commit(actor_id=session.user_id)
        return pair
