"""A hand-written composition of every use case on the in-memory adapters.

`app` is HexaHub as a user sees it, minus HTTP: a FixedClock so expiry is exact,
sequential ids, a fast fake hasher that counts its work, real JWTs signed with a test
key, and an InMemoryEventPublisher to read what was announced. `make_app` builds a
variant (registration off, a hasher with a higher cost, a revocation store that is down,
a publisher that inspects the store).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters.jwt.refresh_tokens import OpaqueRefreshTokenGenerator
from adapters.jwt.token_service import PyJwtTokenService
from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.clock import FixedClock
from adapters.memory.event_publisher import InMemoryEventPublisher
from adapters.memory.id_generator import SequentialIdGenerator
from adapters.memory.revocation_store import InMemoryRevocationStore
from application.accounts import AccountCreator
from application.ports.revocation_store import RevocationStore
from application.revocation import SessionRevoker
from application.security import Principal
from application.tokens import TokenMinter, TokenPair
from application.use_cases.account.change_password import ChangePassword
from application.use_cases.account.get_profile import GetOwnProfile
from application.use_cases.account.list_sessions import ListOwnSessions
from application.use_cases.account.revoke_session import RevokeOwnSession
from application.use_cases.account.update_profile import UpdateOwnProfile
from application.use_cases.auth.authenticate import Authenticate, AuthenticateCommand
from application.use_cases.auth.log_in import LogIn, LogInCommand
from application.use_cases.auth.log_out import LogOut, LogOutEverywhere
from application.use_cases.auth.refresh_session import RefreshSession
from application.use_cases.auth.register_user import RegisterUser, RegisterUserCommand
from application.use_cases.auth.revoke_token import RevokeToken
from application.use_cases.users.bootstrap_admin import BootstrapAdmin, BootstrapAdminCommand
from application.use_cases.users.create_user import CreateUser
from application.use_cases.users.delete_user import DeleteUser
from application.use_cases.users.get_user import GetUser
from application.use_cases.users.list_users import ListUsers
from application.use_cases.users.update_user import UpdateUser
from domain.password_policy import PasswordPolicy
from domain.session import AuthSession
from domain.user import User
from tests.unit.application.fakes import CountingPasswordHasher

PASSWORD = "correct horse battery"
ADMIN_EMAIL = "root@example.com"
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=14)
JWT_LEEWAY_SECONDS = 0  # expiry tests are exact to the second
_JWT_SECRET = "unit-test-signing-secret-of-32-bytes!!"


@dataclass
class App:
    store: InMemoryStore
    clock: FixedClock
    hasher: CountingPasswordHasher
    events: InMemoryEventPublisher
    revocations: RevocationStore
    tokens: PyJwtTokenService
    refresh_tokens: OpaqueRefreshTokenGenerator
    register_user: RegisterUser
    log_in: LogIn
    refresh_session: RefreshSession
    authenticate: Authenticate
    log_out: LogOut
    log_out_everywhere: LogOutEverywhere
    revoke_token: RevokeToken
    get_own_profile: GetOwnProfile
    update_own_profile: UpdateOwnProfile
    change_password: ChangePassword
    list_own_sessions: ListOwnSessions
    revoke_own_session: RevokeOwnSession
    list_users: ListUsers
    get_user: GetUser
    create_user: CreateUser
    update_user: UpdateUser
    delete_user: DeleteUser
    bootstrap_admin: BootstrapAdmin

    # --- steps that read like the user's story ----------------------------------------

    async def sign_up(self, username: str, *, password: str = PASSWORD, **extra: Any) -> User:
        command = RegisterUserCommand(
            email=f"{username}@example.com", username=username, password=password, **extra
        )
        return await self.register_user.execute(command)

    async def log_in_as(self, login: str, *, password: str = PASSWORD, **extra: Any) -> TokenPair:
        return await self.log_in.execute(LogInCommand(login=login, password=password, **extra))

    async def principal_for(self, pair: TokenPair) -> Principal:
        return await self.authenticate.execute(AuthenticateCommand(access_token=pair.access_token))

    async def signed_in(self, username: str) -> Principal:
        """A new account, logged in once, as its requests would see it."""
        await self.sign_up(username)
        return await self.principal_for(await self.log_in_as(username))

    async def admin(self) -> Principal:
        """The bootstrap administrator, logged in (created on first call)."""
        await self.bootstrap_admin.execute(
            BootstrapAdminCommand(email=ADMIN_EMAIL, password=PASSWORD, username="root")
        )
        return await self.principal_for(await self.log_in_as("root"))

    # --- what the "database" holds now ------------------------------------------------

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    async def stored_user(self, user_id: UUID) -> User | None:
        async with self.uow() as uow:
            return await uow.users.get(user_id)

    async def stored_session(self, session_id: UUID) -> AuthSession | None:
        async with self.uow() as uow:
            return await uow.sessions.get(session_id)

    async def change_stored_user(self, user_id: UUID, change: Callable[[User], None]) -> None:
        """Another request's committed write, bypassing every use case."""
        async with self.uow() as uow:
            user = await uow.users.get(user_id)
            assert user is not None
            change(user)
            await uow.users.update(user)
            await uow.commit()

    def event_names(self) -> list[str]:
        return [event.name for event in self.events.events]


def build_app(
    *,
    registration_enabled: bool = True,
    hasher: CountingPasswordHasher | None = None,
    revocations: RevocationStore | None = None,
    store: InMemoryStore | None = None,
    events: InMemoryEventPublisher | None = None,
    reuse_grace: timedelta = timedelta(0),
) -> App:
    store = store or InMemoryStore()
    clock = FixedClock()
    ids = SequentialIdGenerator()
    hasher = hasher or CountingPasswordHasher()
    events = events or InMemoryEventPublisher()
    revocations = revocations or InMemoryRevocationStore(clock)
    policy = PasswordPolicy()
    tokens = PyJwtTokenService(
        secret=_JWT_SECRET,
        issuer="hexahub-test",
        audience="hexahub-test",
        access_token_ttl_seconds=int(ACCESS_TTL.total_seconds()),
        clock=clock,
        leeway_seconds=JWT_LEEWAY_SECONDS,
    )
    refresh_tokens = OpaqueRefreshTokenGenerator()

    def uow_factory() -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(store)

    minter = TokenMinter(tokens, refresh_tokens, clock, int(REFRESH_TTL.total_seconds()))
    # As in the container: an announcement outlives every access token that could carry
    # the session id, leeway included.
    revoker = SessionRevoker(
        revocations, ttl_seconds=int(ACCESS_TTL.total_seconds()) + JWT_LEEWAY_SECONDS
    )
    accounts = AccountCreator(uow_factory, hasher, ids, clock, events, policy)
    return App(
        store=store,
        clock=clock,
        hasher=hasher,
        events=events,
        revocations=revocations,
        tokens=tokens,
        refresh_tokens=refresh_tokens,
        register_user=RegisterUser(accounts, registration_enabled=registration_enabled),
        log_in=LogIn(uow_factory, hasher, minter, ids, clock, events),
        refresh_session=RefreshSession(
            uow_factory, refresh_tokens, minter, revoker, clock, events, reuse_grace=reuse_grace
        ),
        authenticate=Authenticate(uow_factory, tokens, revocations, clock),
        log_out=LogOut(uow_factory, revoker, clock, events),
        log_out_everywhere=LogOutEverywhere(uow_factory, revoker, clock, events),
        revoke_token=RevokeToken(uow_factory, refresh_tokens, tokens, revoker, clock, events),
        get_own_profile=GetOwnProfile(),
        update_own_profile=UpdateOwnProfile(uow_factory, clock, events),
        change_password=ChangePassword(uow_factory, hasher, revoker, clock, events, policy),
        list_own_sessions=ListOwnSessions(uow_factory, clock),
        revoke_own_session=RevokeOwnSession(uow_factory, revoker, clock, events),
        list_users=ListUsers(uow_factory),
        get_user=GetUser(uow_factory),
        create_user=CreateUser(accounts),
        update_user=UpdateUser(uow_factory, revoker, clock, events),
        delete_user=DeleteUser(uow_factory, revoker, clock, events),
        bootstrap_admin=BootstrapAdmin(uow_factory, accounts),
    )


@pytest.fixture
def make_app() -> Callable[..., App]:
    return build_app


@pytest.fixture
def app() -> App:
    return build_app()
