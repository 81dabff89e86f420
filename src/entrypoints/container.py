"""The composition root: the one place that knows which adapter stands behind each port.

Adapters are picked from settings: SQLite or Postgres (or `memory://`) for storage,
Redis or in-process for revocations. Tests override any provider instead of patching.
"""

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

from dependency_injector import containers, providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.argon2.password_hasher import Argon2PasswordHasher
from adapters.jwt.refresh_tokens import OpaqueRefreshTokenGenerator
from adapters.jwt.token_service import PyJwtTokenService
from adapters.logging.event_publisher import StructlogEventPublisher
from adapters.memory.revocation_store import InMemoryRevocationStore
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.redis.client import create_redis_client
from adapters.redis.revocation_store import RedisRevocationStore
from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from adapters.system.clock import SystemClock
from adapters.system.id_generator import Uuid7IdGenerator
from application.accounts import AccountCreator
from application.revocation import SessionRevoker
from application.tokens import TokenMinter
from application.use_cases.account.change_password import ChangePassword
from application.use_cases.account.get_profile import GetOwnProfile
from application.use_cases.account.list_sessions import ListOwnSessions
from application.use_cases.account.revoke_session import RevokeOwnSession
from application.use_cases.account.update_profile import UpdateOwnProfile
from application.use_cases.auth.authenticate import Authenticate
from application.use_cases.auth.log_in import LogIn
from application.use_cases.auth.log_out import LogOut, LogOutEverywhere
from application.use_cases.auth.refresh_session import RefreshSession
from application.use_cases.auth.register_user import RegisterUser
from application.use_cases.auth.revoke_token import RevokeToken
from application.use_cases.users.bootstrap_admin import BootstrapAdmin
from application.use_cases.users.create_user import CreateUser
from application.use_cases.users.delete_user import DeleteUser
from application.use_cases.users.get_user import GetUser
from application.use_cases.users.list_users import ListUsers
from application.use_cases.users.update_user import UpdateUser
from domain.password_policy import PasswordPolicy
from entrypoints.config.secrets import resolve_jwt_secret
from entrypoints.config.settings import Settings
from entrypoints.http.pagination import CursorCodec

MEMORY_URL = "memory://"
VERSION = "0.1.0"


def _storage_kind(settings: Settings) -> str:
    return "memory" if settings.database_url == MEMORY_URL else "sql"


def _revocation_kind(settings: Settings) -> str:
    return "redis" if settings.redis_url else "memory"


async def _engine(settings: Settings) -> AsyncIterator[AsyncEngine | None]:
    if _storage_kind(settings) == "memory":
        yield None
        return
    engine = create_engine(
        settings.effective_database_url,
        pool_size=settings.database_pool_size,
        connect_timeout=settings.database_connect_timeout_seconds,
        statement_timeout_ms=int(settings.database_statement_timeout_seconds * 1000),
    )
    try:
        yield engine
    finally:
        await engine.dispose()


async def _redis(settings: Settings) -> AsyncIterator[Any]:
    if settings.redis_url is None:
        yield None
        return
    client = create_redis_client(settings.redis_url.get_secret_value())
    try:
        yield client
    finally:
        await client.aclose()


def _hasher(settings: Settings) -> Iterator[Argon2PasswordHasher]:
    hasher = Argon2PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
        max_concurrency=settings.effective_hash_concurrency,
        max_waiting=settings.password_hash_max_waiting,
        queue_timeout=settings.password_hash_queue_timeout_seconds,
    )
    try:
        yield hasher
    finally:
        hasher.shutdown()


def _database_probe(engine: AsyncEngine | None) -> Any:
    async def probe() -> None:
        if engine is None:
            return
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return probe


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    # --- infrastructure (closed on shutdown) ----------------------------------------
    engine = providers.Resource(_engine, settings)
    redis_client = providers.Resource(_redis, settings)
    password_hasher = providers.Resource(_hasher, settings)

    # --- plain adapters -----------------------------------------------------------------
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(Uuid7IdGenerator)
    events = providers.Singleton(StructlogEventPublisher)
    jwt_secret = providers.Singleton(resolve_jwt_secret, settings)
    token_service = providers.Singleton(
        PyJwtTokenService,
        secret=jwt_secret,
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
        access_token_ttl_seconds=settings.provided.access_token_ttl_seconds,
        clock=clock,
        leeway_seconds=settings.provided.jwt_leeway_seconds,
    )
    refresh_tokens = providers.Singleton(OpaqueRefreshTokenGenerator)
    password_policy = providers.Singleton(
        PasswordPolicy,
        min_length=settings.provided.password_min_length,
        max_length=settings.provided.password_max_length,
    )

    memory_store = providers.Singleton(InMemoryStore)
    session_factory = providers.Singleton(create_session_factory, engine)
    unit_of_work = providers.Selector(
        providers.Callable(_storage_kind, settings),
        sql=providers.Factory(SqlAlchemyUnitOfWork, session_factory),
        memory=providers.Factory(InMemoryUnitOfWork, memory_store),
    )
    revocation_store = providers.Selector(
        providers.Callable(_revocation_kind, settings),
        redis=providers.Singleton(
            RedisRevocationStore, redis_client, prefix=settings.provided.redis_key_prefix
        ),
        memory=providers.Singleton(InMemoryRevocationStore, clock),
    )

    # --- application services -----------------------------------------------------------
    uow_factory = unit_of_work.provider
    minter = providers.Singleton(
        TokenMinter,
        issuer=token_service,
        refresh_tokens=refresh_tokens,
        clock=clock,
        refresh_token_ttl_seconds=settings.provided.refresh_token_ttl_seconds,
    )
    # Entries live as long as a token can still verify: its lifetime plus the clock leeway.
    revoker = providers.Singleton(
        SessionRevoker,
        store=revocation_store,
        ttl_seconds=providers.Callable(
            lambda s: s.access_token_ttl_seconds + s.jwt_leeway_seconds, settings
        ),
    )
    accounts = providers.Singleton(
        AccountCreator,
        uow_factory=uow_factory,
        hasher=password_hasher,
        ids=ids,
        clock=clock,
        events=events,
        password_policy=password_policy,
    )

    # --- use cases ----------------------------------------------------------------------
    register_user = providers.Factory(
        RegisterUser, accounts, registration_enabled=settings.provided.registration_enabled
    )
    log_in = providers.Factory(
        LogIn,
        uow_factory=uow_factory,
        hasher=password_hasher,
        minter=minter,
        ids=ids,
        clock=clock,
        events=events,
    )
    refresh_session = providers.Factory(
        RefreshSession,
        uow_factory=uow_factory,
        refresh_tokens=refresh_tokens,
        minter=minter,
        revoker=revoker,
        clock=clock,
        events=events,
        reuse_grace=providers.Callable(
            lambda s: timedelta(seconds=s.refresh_reuse_grace_seconds), settings
        ),
    )
    authenticate = providers.Factory(
        Authenticate,
        uow_factory=uow_factory,
        verifier=token_service,
        revocations=revocation_store,
        clock=clock,
    )
    log_out = providers.Factory(
        LogOut, uow_factory=uow_factory, revoker=revoker, clock=clock, events=events
    )
    log_out_everywhere = providers.Factory(
        LogOutEverywhere, uow_factory=uow_factory, revoker=revoker, clock=clock, events=events
    )
    revoke_token = providers.Factory(
        RevokeToken,
        uow_factory=uow_factory,
        refresh_tokens=refresh_tokens,
        verifier=token_service,
        revoker=revoker,
        clock=clock,
        events=events,
    )
    get_own_profile = providers.Factory(GetOwnProfile)
    update_own_profile = providers.Factory(
        UpdateOwnProfile, uow_factory=uow_factory, clock=clock, events=events
    )
    change_password = providers.Factory(
        ChangePassword,
        uow_factory=uow_factory,
        hasher=password_hasher,
        revoker=revoker,
        clock=clock,
        events=events,
        password_policy=password_policy,
    )
    list_own_sessions = providers.Factory(ListOwnSessions, uow_factory=uow_factory, clock=clock)
    revoke_own_session = providers.Factory(
        RevokeOwnSession, uow_factory=uow_factory, revoker=revoker, clock=clock, events=events
    )
    list_users = providers.Factory(ListUsers, uow_factory=uow_factory)
    get_user = providers.Factory(GetUser, uow_factory=uow_factory)
    create_user = providers.Factory(CreateUser, accounts)
    update_user = providers.Factory(
        UpdateUser, uow_factory=uow_factory, revoker=revoker, clock=clock, events=events
    )
    delete_user = providers.Factory(
        DeleteUser, uow_factory=uow_factory, revoker=revoker, clock=clock, events=events
    )
    bootstrap_admin = providers.Factory(BootstrapAdmin, uow_factory=uow_factory, accounts=accounts)

    # --- HTTP edge ----------------------------------------------------------------------
    cursor_codec = providers.Singleton(
        CursorCodec, providers.Callable(lambda secret: secret.encode(), jwt_secret)
    )
    service_info = providers.Callable(
        lambda s: {"name": s.public_name, "version": VERSION, "environment": s.environment.value},
        settings,
    )
    health_probes = providers.Callable(
        lambda engine, store: {"database": _database_probe(engine), "cache": store.ping},
        engine,
        revocation_store,
    )


async def start(container: Container) -> None:
    """Open every resource. Afterwards providers resolve synchronously, so routes and
    use cases never see awaitables where they expect adapters."""
    opening = container.init_resources()
    if opening is not None:
        await opening
    for resource in container.traverse(types=[providers.Resource]):
        resource.disable_async_mode()


async def stop(container: Container) -> None:
    for resource in container.traverse(types=[providers.Resource]):
        resource.enable_async_mode()
    closing = container.shutdown_resources()
    if closing is not None:
        await closing
