from dataclasses import dataclass, field
from typing import NoReturn

from application.errors import InvalidCredentialsError
from application.ports.clock import Clock
from application.ports.event_publisher import EventPublisher
from application.ports.id_generator import IdGenerator
from application.ports.password_hasher import PasswordHasher
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.tokens import TokenMinter, TokenPair
from domain.errors import InvalidValueError
from domain.events import LoginFailed
from domain.session import AuthSession
from domain.user import User
from domain.value_objects import Email, Username


@dataclass(frozen=True, slots=True, kw_only=True)
class LogInCommand:
    login: str
    """A username or an email address."""
    password: str = field(repr=False)
    ip: str | None = None
    user_agent: str | None = None


class LogIn:
    """Check a password and open a new session with a token pair.

    - `login` may be the username or the email (case-insensitive).
    - Unknown account, wrong password, inactive account and password-less account all
      fail the same way (`invalid_credentials`), and an unknown account still costs one
      hash, so neither the answer nor its timing tells which accounts exist.
    - When the stored hash uses weaker parameters than today's, it is upgraded.
    - The session, the refresh token and `last_login_at` are written in one transaction;
      the hash check runs between two short transactions, never inside one. If the
      stored hash changed in between (a concurrent upgrade), the password is checked
      again against the new hash rather than refused.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        minter: TokenMinter,
        ids: IdGenerator,
        clock: Clock,
        events: EventPublisher,
    ) -> None:
        self._uow_factory = uow_factory
        self._hasher = hasher
        self._minter = minter
        self._ids = ids
        self._clock = clock
        self._events = events

    async def execute(self, command: LogInCommand) -> TokenPair:
        # A second round only when the stored hash changed while we checked it (another
        # login upgrading it, say): the password is then verified against the new hash.
        for _ in range(2):
            user = await self._verified_user(command)
            upgraded = None
            if self._hasher.needs_rehash(user.password_hash or ""):
                upgraded = await self._hasher.hash(command.password)
            pair = await self._open_session(user, command, upgraded)
            if pair is not None:
                return pair
        raise InvalidCredentialsError()

    async def _verified_user(self, command: LogInCommand) -> User:
        user = await self._find(command.login)
        if user is None or user.password_hash is None:
            await self._hasher.verify_dummy(command.password)
            await self._fail(user)
        if not await self._hasher.verify(user.password_hash, command.password):
            await self._fail(user)
        if not user.is_active:
            await self._fail(user)
        return user

    async def _open_session(
        self, user: User, command: LogInCommand, upgraded: str | None
    ) -> TokenPair | None:
        """Write the session; None when the password hash changed meanwhile."""
        async with self._uow_factory() as uow:
            current = await uow.users.get(user.id, for_update=True)
            if current is None or not current.is_active:
                raise InvalidCredentialsError()
            if current.password_hash != user.password_hash:
                return None
            now = self._clock.now()
            session = AuthSession(
                id=self._ids.new_id(),
                user_id=current.id,
                created_at=now,
                last_used_at=now,
                expires_at=now + self._minter.refresh_ttl,
                ip=command.ip,
                user_agent=_clip(command.user_agent),
            )
            pair, record = self._minter.mint(session)
            current.record_login(session_id=session.id, now=now)
            if upgraded is not None:
                current.upgrade_password_hash(upgraded)
            await uow.sessions.add(session)
            await uow.sessions.add_refresh_token(record)
            await uow.users.update(current)
            await uow.commit()
        await self._events.publish(current.pull_events())
        return pair

    async def _find(self, login: str) -> User | None:
        try:
            key: Email | Username = Email(login) if "@" in login else Username(login)
        except InvalidValueError:
            return None
        async with self._uow_factory() as uow:
            if isinstance(key, Email):
                return await uow.users.get_by_email(key)
            return await uow.users.get_by_username(key)

    async def _fail(self, user: User | None) -> NoReturn:
        await self._events.publish(
            [LoginFailed(occurred_at=self._clock.now(), user_id=user.id if user else None)]
        )
        raise InvalidCredentialsError()


def _clip(user_agent: str | None) -> str | None:
    return user_agent[:512] if user_agent else None
