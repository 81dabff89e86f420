from dataclasses import dataclass

from application.common.use_case import Transactional
from application.ports.token_service import RefreshTokenGenerator
from application.signin.requests import SignedIn


@dataclass(frozen=True, slots=True)
class ResolveSignIn(Transactional):
    """Who the hosted pages' cookie signs in, if anyone.

    The cookie holds the refresh token of the login session the sign-in page opened
    (stored only as a digest, never handed to any script: HttpOnly). It signs in while
    that token is unrotated and unexpired, its session is live and the account active:
    logout, logout-all, a password change or an administrator end it like any other
    session."""

    refresh_tokens: RefreshTokenGenerator

    async def execute(self, cookie: str | None) -> SignedIn | None:
        if not cookie:
            return None
        now = self.clock.now()
        async with self.uow_factory() as uow:
            record = await uow.sessions.get_refresh_token(self.refresh_tokens.digest(cookie))
            if record is None or record.rotated_at is not None or record.expires_at <= now:
                return None
            session = await uow.sessions.get(record.session_id)
            if session is None or not session.is_active(now):
                return None
            user = await uow.users.get(session.user_id)
        if user is None or not user.is_active:
            return None
        return SignedIn(user=user, session_id=session.id, auth_time=session.created_at)
