"""HexaHub as a user sees it, minus HTTP: built by the composition root on the
in-memory adapters, with providers overridden where a test needs exactness: a FixedClock
so expiry is exact, sequential ids, a fast fake hasher that counts its work, real JWTs
signed with a test key, and an InMemoryEventPublisher to read what was announced after
each commit. `make_app` builds a variant (registration off, a hasher with a higher cost,
a revocation store that is down, a publisher that inspects the store).

Use cases are the container's: `app.log_in` is `container.log_in()`.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from dependency_injector import providers

from adapters.jwt.refresh_tokens import OpaqueRefreshTokenGenerator
from adapters.jwt.token_service import PyJwtTokenService
from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.clock import FixedClock
from adapters.memory.event_publisher import InMemoryEventPublisher
from adapters.memory.id_generator import SequentialIdGenerator
from adapters.memory.notifier import InMemoryNotifier
from adapters.memory.password_blocklist import InMemoryPasswordBlocklist
from adapters.memory.request_context import FixedRequestContext
from adapters.memory.revocation_store import InMemoryRevocationStore
from adapters.totp.totp_engine import PyotpTotpEngine
from application.common.security import Principal
from application.events.handlers import Observing
from application.identity.attempts import LoginPolicy
from application.identity.throttle import ThrottlePolicy
from application.identity.token_pairs import TokenPair
from application.identity.use_cases.bootstrap_admin import BootstrapAdminCommand
from application.identity.use_cases.log_in import LogInCommand
from application.identity.use_cases.register_user import RegisterUserCommand
from application.mail.dispatch import MailDispatcher
from application.ports.request_context import RequestMeta
from application.ports.revocation_store import RevocationStore
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.tokens.use_cases.authenticate import AuthenticateCommand
from domain.identity.session import AuthSession
from domain.identity.user import User
from entrypoints.config.settings import Settings
from entrypoints.container import Container
from tests.unit.application.fakes import CountingPasswordHasher

PASSWORD = "correct horse battery"
ADMIN_EMAIL = "root@example.com"
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(days=14)
JWT_LEEWAY_SECONDS = 0  # expiry tests are exact to the second
_JWT_SECRET = "unit-test-signing-secret-of-32-bytes!!"


class App:
    """The container's use cases by name (`app.log_in`), and the test's handles on
    the adapters behind them."""

    def __init__(
        self,
        container: Container,
        *,
        store: InMemoryStore,
        clock: FixedClock,
        hasher: CountingPasswordHasher,
        events: InMemoryEventPublisher,
        revocations: RevocationStore,
        context: FixedRequestContext,
        notifier: InMemoryNotifier,
    ) -> None:
        self.container = container
        self.store = store
        self.clock = clock
        self.hasher = hasher
        self.events = events
        self.revocations = revocations
        self.context = context
        self.notifier = notifier
        self.tokens: PyJwtTokenService = container.token_service()
        self.refresh_tokens: OpaqueRefreshTokenGenerator = container.refresh_tokens()
        self.totp: PyotpTotpEngine = container.totp_engine()
        self.mailer: MailDispatcher = container.dispatcher()
        self.uow_factory: UnitOfWorkFactory = container.uow_factory()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.container, name)()

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
    login_policy: LoginPolicy | None = None,
    throttle_policy: ThrottlePolicy | None = None,
) -> App:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        database_url="memory://",
        jwt_secret=_JWT_SECRET,
        jwt_issuer="hexahub-test",
        jwt_audience="hexahub-test",
        jwt_leeway_seconds=JWT_LEEWAY_SECONDS,
        access_token_ttl_seconds=int(ACCESS_TTL.total_seconds()),
        refresh_token_ttl_seconds=int(REFRESH_TTL.total_seconds()),
        refresh_reuse_grace_seconds=int(reuse_grace.total_seconds()),
        registration_enabled=registration_enabled,
        public_base_url="https://id.example.test",
        public_name="HexaHub Test",
    )
    container = Container(settings=providers.Object(settings))
    clock = FixedClock()
    store = store or InMemoryStore()
    hasher = hasher or CountingPasswordHasher()
    events = events or InMemoryEventPublisher()
    revocations = revocations or InMemoryRevocationStore(clock)
    context = FixedRequestContext(
        RequestMeta(ip="203.0.113.7", user_agent="pytest", request_id="r1")
    )
    notifier = InMemoryNotifier()
    for name, replacement in {
        "clock": clock,
        "ids": SequentialIdGenerator(),
        "request_context": context,
        "memory_store": store,
        "password_hasher": hasher,
        "password_blocklist": InMemoryPasswordBlocklist(["password", "123456", "qwertyuiop"]),
        "revocation_store": revocations,
        "login_policy": login_policy or LoginPolicy(),
        "throttle_policy": throttle_policy or ThrottlePolicy(enabled=False),
        "notifier": notifier,
    }.items():
        getattr(container, name).override(providers.Object(replacement))
    # What each commit announced, in order, instead of the log lines and counters.
    container.observers.override(providers.List(providers.Object(Observing(events))))
    return App(
        container,
        store=store,
        clock=clock,
        hasher=hasher,
        events=events,
        revocations=revocations,
        context=context,
        notifier=notifier,
    )


@pytest.fixture
def make_app() -> Callable[..., App]:
    return build_app


@pytest.fixture
def app() -> App:
    return build_app()
