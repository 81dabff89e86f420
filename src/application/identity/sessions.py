"""Opening a login session: shared by the password login and the second-factor step, so
that both end in exactly the same session, tokens and bookkeeping."""

from application.identity.token_pairs import TokenMinter, TokenPair
from application.ports.clock import Clock
from application.ports.id_generator import IdGenerator
from application.ports.unit_of_work import UnitOfWork
from domain.identity.session import AuthSession
from domain.identity.user import User


class SessionOpener:
    """Writes a new session, its first refresh token and the user's login (which resets
    the failed-login count and any lockout) into the caller's unit of work. The caller
    has loaded `user` for update in that unit of work, and audits and commits it."""

    def __init__(self, minter: TokenMinter, ids: IdGenerator, clock: Clock) -> None:
        self._minter = minter
        self._ids = ids
        self._clock = clock

    async def open(
        self, uow: UnitOfWork, user: User, *, ip: str | None, user_agent: str | None
    ) -> TokenPair:
        now = self._clock.now()
        session = AuthSession(
            id=self._ids.new_id(),
            user_id=user.id,
            created_at=now,
            last_used_at=now,
            expires_at=now + self._minter.refresh_ttl,
            ip=ip,
            user_agent=_clip(user_agent),
        )
        pair, record = self._minter.mint(session)
        user.record_login(session_id=session.id, now=now)
        await uow.sessions.add(session)
        await uow.sessions.add_refresh_token(record)
        await uow.users.update(user)
        return pair


def _clip(user_agent: str | None) -> str | None:
    return user_agent[:512] if user_agent else None
