"""The composition root: the one place that knows which adapter stands behind each port.

Adapters are picked from settings: SQLite or Postgres (or `memory://`) for storage,
Redis or in-process for revocations. Tests override any provider instead of patching.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import structlog
from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.argon2.password_hasher import Argon2PasswordHasher
from adapters.composite_event_publisher import CompositeEventPublisher
from adapters.context.request_context import ContextVarRequestContext
from adapters.crypto.file_keys import load_signing_keys
from adapters.crypto.key_factory import CryptographyKeyFactory
from adapters.crypto.secret_box import FernetSecretBox
from adapters.emails.normaliser import EmailValidatorNormaliser
from adapters.jwt.keys import hs256_key
from adapters.jwt.refresh_tokens import OpaqueRefreshTokenGenerator
from adapters.jwt.token_service import PyJwtTokenService
from adapters.logging.event_publisher import StructlogEventPublisher
from adapters.mail.console_notifier import ConsoleNotifier
from adapters.mail.smtp_notifier import SmtpNotifier
from adapters.memory.cache import InProcessCache, NoCache
from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.memory.revocation_store import InMemoryRevocationStore
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.metrics.cache import count_lookup
from adapters.metrics.database import instrument_engine
from adapters.metrics.event_publisher import PrometheusEventPublisher
from adapters.metrics.redis import instrument_redis
from adapters.metrics.resilience import record_breaker_state
from adapters.metrics.sampler import MetricsSampler
from adapters.metrics.throttle import count_rejection
from adapters.passwords.common_passwords import CommonPasswordBlocklist
from adapters.redis.cache import RedisCache
from adapters.redis.client import create_redis_client
from adapters.redis.invalidation_bus import RedisInvalidationBus
from adapters.redis.rate_limiter import RedisRateLimiter
from adapters.redis.revocation_store import RedisRevocationStore
from adapters.resilience.circuit_breaker import CircuitBreaker
from adapters.resilience.fallback_rate_limiter import FallbackRateLimiter
from adapters.secrets.api_keys import HashedApiKeySecrets
from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from adapters.system.clock import SystemClock
from adapters.system.id_generator import Uuid7IdGenerator
from adapters.tiered_cache import TieredCache
from adapters.totp.totp_engine import PyotpTotpEngine
from application.accounts import AccountCreator
from application.attempts import PasswordAttempts
from application.audit import Auditor
from application.cache_invalidation import invalidating
from application.errors import (
    CacheUnavailableError,
    ServiceUnavailableError,
    StorageUnavailableError,
)
from application.key_ring import KeyRing
from application.mail_dispatch import MailDispatcher
from application.mail_templates import MailComposer
from application.passwords import PasswordRules
from application.revocation import SessionRevoker
from application.throttle import Rate, Throttle, ThrottlePolicy
from application.tokens import TokenMinter
from application.use_cases.account.change_password import ChangePassword
from application.use_cases.account.get_profile import GetOwnProfile
from application.use_cases.account.list_sessions import ListOwnSessions
from application.use_cases.account.revoke_session import RevokeOwnSession
from application.use_cases.account.update_profile import UpdateOwnProfile
from application.use_cases.account.verification import (
    OneTimeTokenPolicy,
    RequestEmailVerification,
    RequestPasswordReset,
    ResetPassword,
    VerifyEmail,
)
from application.use_cases.api_keys.manage_api_keys import (
    CreateApiKey,
    ListApiKeys,
    RevokeApiKey,
)
from application.use_cases.audit.list_audit_events import ListAuditEvents
from application.use_cases.auth.authenticate import Authenticate
from application.use_cases.auth.authenticate_api_key import AuthenticateApiKey
from application.use_cases.auth.log_in import LogIn, LoginPolicy
from application.use_cases.auth.log_out import LogOut, LogOutEverywhere
from application.use_cases.auth.refresh_session import RefreshSession
from application.use_cases.auth.register_user import RegisterUser
from application.use_cases.auth.revoke_token import RevokeToken
from application.use_cases.clients.authenticate_client import AuthenticateClient
from application.use_cases.clients.manage_clients import CreateClient, ListClients, RevokeClient
from application.use_cases.keys.rotate_signing_key import RotateSigningKey
from application.use_cases.mfa.confirm_totp import ConfirmTotp
from application.use_cases.mfa.disable_totp import DisableTotp
from application.use_cases.mfa.setup_totp import SetupTotp
from application.use_cases.mfa.verify_mfa import VerifyMfa
from application.use_cases.roles.manage_roles import (
    ChangeRole,
    CreateRole,
    DeleteRole,
    GetRole,
    ListRoles,
)
from application.use_cases.sessions.count_active_sessions import CountActiveSessions
from application.use_cases.tokens.client_credentials import IssueClientToken
from application.use_cases.tokens.introspect import IntrospectToken
from application.use_cases.users.assign_roles import AssignRoles
from application.use_cases.users.bootstrap_admin import BootstrapAdmin
from application.use_cases.users.create_user import CreateUser
from application.use_cases.users.delete_user import DeleteUser
from application.use_cases.users.get_user import GetUser
from application.use_cases.users.list_users import ListUsers
from application.use_cases.users.unlock_user import UnlockUser
from application.use_cases.users.update_user import UpdateUser
from application.user_cache import UserCache
from domain.password_policy import PasswordPolicy
from domain.signing_keys import KeyAlgorithm
from entrypoints.config.secrets import resolve_encryption_keys, resolve_jwt_secret
from entrypoints.config.settings import Settings, parse_rate
from entrypoints.http import health
from entrypoints.http.health import Check
from entrypoints.http.pagination import CursorCodec
from entrypoints.tracing import trace_engine, trace_redis

log = structlog.get_logger()

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
    trace_engine(engine)  # a span per statement while tracing is on
    instrument_engine(engine)  # statement latency for Prometheus
    try:
        yield engine
    finally:
        await engine.dispose()


async def _redis(settings: Settings) -> AsyncIterator[Any]:
    if settings.redis_url is None:
        yield None
        return
    client = create_redis_client(settings.redis_url.get_secret_value())
    instrument_redis(client)  # command latency for Prometheus
    trace_redis(client)  # a span per command while tracing is on; wraps the line above
    try:
        yield client
    finally:
        await client.aclose()


def _cache_kind(settings: Settings) -> str:
    if not settings.cache_enabled:
        return "off"
    if settings.redis_url:
        return "tiered"
    # Without Redis, processes cannot tell each other what changed, so the in-process
    # cache is kept for the embedded, single-process set-ups only (memory, or SQLite
    # with one worker). Postgres without Redis usually means several replicas: no cache
    # rather than one that serves a demoted user from a sibling's memory.
    single_process = settings.workers == 1 and (
        _storage_kind(settings) == "memory" or settings.effective_database_url.startswith("sqlite")
    )
    return "local" if single_process else "off"


def _units_of_work(
    settings: Any,
    session_factory: Any,
    secret_box: Any,
    breaker: Any,
    memory_store: Any,
    *,
    reads_only: bool,
) -> providers.Selector[Any]:
    """A unit of work per transaction, on the configured storage (providers in, one
    provider out: the container declares the writing and the read-only kinds)."""
    return providers.Selector(
        providers.Callable(_storage_kind, settings),
        sql=providers.Factory(
            SqlAlchemyUnitOfWork,
            session_factory,
            secret_box=secret_box,
            breaker=breaker,
            reads_only=reads_only,
        ),
        memory=providers.Factory(InMemoryUnitOfWork, memory_store),
    )


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


def _key_ring(
    settings: Settings,
    uow_factory: Any,
    key_factory: CryptographyKeyFactory,
    jwt_secret: str,
    clock: SystemClock,
) -> KeyRing:
    """Operator files when given (rotation is then theirs); HS256 from JWT_SECRET; else
    keys kept in the database, created on first start and rotated by the service."""
    # Retired keys verify for the longest token they may have signed: access tokens,
    # and the five-minute MFA tokens, plus the clock leeway.
    lifetime = timedelta(
        seconds=max(settings.access_token_ttl_seconds, 300) + settings.jwt_leeway_seconds
    )
    algorithm = KeyAlgorithm(settings.jwt_algorithm)
    files = settings.jwt_private_key_file or settings.jwt_keys_dir
    if files is not None:
        ring = KeyRing.static(load_signing_keys(files), token_lifetime=lifetime, clock=clock)
        if ring.signing_algorithm is not algorithm:
            raise ValueError(
                f"the key files sign with {ring.signing_algorithm.value}, "
                f"but JWT_ALGORITHM is {algorithm.value}"
            )
        return ring
    if algorithm is KeyAlgorithm.HS256:
        return KeyRing.static([hs256_key(jwt_secret)], token_lifetime=lifetime, clock=clock)
    return KeyRing.stored(
        uow_factory=uow_factory,
        key_factory=key_factory,
        signing_algorithm=algorithm,
        token_lifetime=lifetime,
        clock=clock,
    )


def _rate(spec: str) -> Rate:
    return Rate(*parse_rate(spec))


def _throttle_policy(s: Settings) -> ThrottlePolicy:
    return ThrottlePolicy(
        enabled=s.rate_limit_enabled,
        login_per_account=_rate(s.rate_limit_login_per_account),
        login_per_client=_rate(s.rate_limit_login_per_client),
        register_per_client=_rate(s.rate_limit_register_per_client),
        reset_per_client=_rate(s.rate_limit_reset_per_client),
        reset_per_email=_rate(s.rate_limit_reset_per_email),
        requests_per_client=_rate(s.rate_limit_requests_per_client),
    )


def _login_policy(s: Settings) -> LoginPolicy:
    return LoginPolicy(
        lockout_threshold=s.lockout_threshold,
        lockout_base=timedelta(seconds=s.lockout_base_seconds),
        lockout_ceiling=timedelta(seconds=s.lockout_max_seconds),
        require_verified_email=s.require_verified_email,
    )


def _token_policy(s: Settings) -> OneTimeTokenPolicy:
    return OneTimeTokenPolicy(
        verification_ttl=timedelta(seconds=s.verification_token_ttl_seconds),
        reset_ttl=timedelta(seconds=s.reset_token_ttl_seconds),
    )


def _log_mail_failure(error: BaseException) -> None:
    # The class only: an SMTP error message can quote the recipient or the server reply.
    log.warning("mail_dispatch_failed", error_type=type(error).__name__)


def _notifier_kind(settings: Settings) -> str:
    return "smtp" if settings.smtp_host else "console"


def _breaker(
    name: str, unavailable: type[ServiceUnavailableError], settings: Settings
) -> CircuitBreaker:
    breaker = CircuitBreaker(
        name,
        unavailable=unavailable,
        failure_threshold=settings.circuit_failure_threshold,
        reset_timeout=settings.circuit_reset_seconds,
    )
    breaker.subscribe(record_breaker_state)
    return breaker


def _readiness_checks(
    settings: Settings,
    engine: AsyncEngine | None,
    database: CircuitBreaker,
    redis: CircuitBreaker,
    revocations: Any,
) -> dict[str, Check]:
    """What `/health/ready` checks: the database and its schema (not with `memory://`),
    and the revocation store, which is Redis when configured and required only with
    READINESS_REQUIRES_REDIS."""
    sql = engine is not None
    checks = {
        "database": Check(
            probe=health.database_probe(engine, database),
            breaker=database if sql else None,
            dependency="database" if sql else None,
        )
    }
    if engine is not None:
        checks["migrations"] = Check(probe=health.migrations_probe(engine, database))
    with_redis = settings.redis_url is not None
    checks["cache"] = Check(
        probe=revocations.ping,
        breaker=redis if with_redis else None,
        dependency="redis" if with_redis else None,
        required=settings.readiness_requires_redis or not with_redis,
    )
    return checks


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    # --- infrastructure (closed on shutdown) ----------------------------------------
    engine = providers.Resource(_engine, settings)
    redis_client = providers.Resource(_redis, settings)
    password_hasher = providers.Resource(_hasher, settings)

    # --- plain adapters -----------------------------------------------------------------
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(Uuid7IdGenerator)
    events = providers.Singleton(
        CompositeEventPublisher,
        providers.List(
            providers.Singleton(StructlogEventPublisher),
            providers.Singleton(PrometheusEventPublisher),
        ),
    )
    jwt_secret = providers.Singleton(resolve_jwt_secret, settings)
    secret_box = providers.Singleton(
        FernetSecretBox, providers.Callable(resolve_encryption_keys, settings)
    )
    refresh_tokens = providers.Singleton(OpaqueRefreshTokenGenerator)
    totp_engine = providers.Singleton(PyotpTotpEngine)
    password_policy = providers.Singleton(
        PasswordPolicy,
        min_length=settings.provided.password_min_length,
        max_length=settings.provided.password_max_length,
    )
    password_blocklist = providers.Singleton(CommonPasswordBlocklist)
    password_rules = providers.Singleton(PasswordRules, password_policy, password_blocklist)
    request_context = providers.Singleton(ContextVarRequestContext)
    api_key_secrets = providers.Singleton(HashedApiKeySecrets)
    emails = providers.Singleton(EmailValidatorNormaliser)
    one_time_tokens = providers.Singleton(OpaqueRefreshTokenGenerator, prefix="hxo_")
    mail_composer = providers.Singleton(
        MailComposer,
        providers.Callable(lambda s: s.effective_public_base_url, settings),
        settings.provided.public_name,
    )
    notifier = providers.Selector(
        providers.Callable(_notifier_kind, settings),
        smtp=providers.Singleton(
            SmtpNotifier,
            host=settings.provided.smtp_host,
            port=settings.provided.smtp_port,
            username=settings.provided.smtp_username,
            password=providers.Callable(
                lambda s: s.smtp_password.get_secret_value() if s.smtp_password else None,
                settings,
            ),
            starttls=settings.provided.smtp_starttls,
            mail_from=settings.provided.mail_from,
        ),
        console=providers.Singleton(
            ConsoleNotifier,
            # Bodies carry one-time links: shown in development only.
            show_body=providers.Callable(lambda s: s.environment.value != "production", settings),
        ),
    )
    mail_wake = providers.Singleton(asyncio.Event)

    # One breaker per dependency, shared by every adapter that calls it.
    database_breaker = providers.Singleton(
        _breaker, "database", providers.Object(StorageUnavailableError), settings
    )
    redis_breaker = providers.Singleton(
        _breaker, "redis", providers.Object(CacheUnavailableError), settings
    )

    memory_store = providers.Singleton(InMemoryStore)
    session_factory = providers.Singleton(create_session_factory, engine)
    unit_of_work = _units_of_work(
        settings, session_factory, secret_box, database_breaker, memory_store, reads_only=False
    )
    revocation_store = providers.Selector(
        providers.Callable(_revocation_kind, settings),
        redis=providers.Singleton(
            RedisRevocationStore,
            redis_client,
            prefix=settings.provided.redis_key_prefix,
            breaker=redis_breaker,
        ),
        memory=providers.Singleton(InMemoryRevocationStore, clock),
    )
    rate_limiter = providers.Selector(
        providers.Callable(_revocation_kind, settings),
        # Redis down: each instance limits in process until Redis answers again.
        redis=providers.Singleton(
            FallbackRateLimiter,
            primary=providers.Singleton(
                RedisRateLimiter,
                redis_client,
                prefix=providers.Callable(lambda s: f"{s.redis_key_prefix}rl:", settings),
                breaker=redis_breaker,
            ),
            fallback=providers.Singleton(InMemoryRateLimiter, clock),
        ),
        memory=providers.Singleton(InMemoryRateLimiter, clock),
    )

    # Transactions that only read: the per-request authentication path.
    reads = _units_of_work(
        settings, session_factory, secret_box, database_breaker, memory_store, reads_only=True
    )
    # In front of the database for the reads of every authenticated request.
    cache = providers.Selector(
        providers.Callable(_cache_kind, settings),
        tiered=providers.Singleton(
            TieredCache,
            providers.Singleton(
                InProcessCache,
                max_entries=settings.provided.cache_local_max_entries,
                ttl_seconds=settings.provided.cache_local_ttl_seconds,
            ),
            providers.Singleton(
                RedisCache,
                redis_client,
                prefix=settings.provided.redis_key_prefix,
                breaker=redis_breaker,
            ),
            providers.Singleton(
                RedisInvalidationBus,
                redis_client,
                channel=providers.Callable(
                    lambda s: f"{s.redis_key_prefix}cache:invalidate", settings
                ),
                breaker=redis_breaker,
            ),
            on_lookup=providers.Object(count_lookup),
        ),
        local=providers.Singleton(
            TieredCache,
            providers.Singleton(
                InProcessCache,
                max_entries=settings.provided.cache_local_max_entries,
                ttl_seconds=settings.provided.cache_ttl_seconds,
            ),
            on_lookup=providers.Object(count_lookup),
        ),
        off=providers.Singleton(NoCache),
    )

    # --- application services -----------------------------------------------------------
    # Every transaction drops the cached users and roles it wrote, once committed.
    uow_factory = providers.Singleton(invalidating, unit_of_work.provider, cache)
    user_cache = providers.Singleton(
        UserCache, cache, reads.provider, ttl_seconds=settings.provided.cache_ttl_seconds
    )
    key_factory = providers.Singleton(CryptographyKeyFactory)
    key_ring = providers.Singleton(_key_ring, settings, uow_factory, key_factory, jwt_secret, clock)
    token_service = providers.Singleton(
        PyJwtTokenService,
        keys=key_ring,
        algorithms=providers.Callable(
            lambda s: frozenset({KeyAlgorithm(s.jwt_algorithm)}), settings
        ),
        issuer=providers.Callable(lambda s: s.effective_jwt_issuer, settings),
        audience=settings.provided.jwt_audience,
        access_token_ttl_seconds=settings.provided.access_token_ttl_seconds,
        clock=clock,
        leeway_seconds=settings.provided.jwt_leeway_seconds,
    )
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
    auditor = providers.Singleton(Auditor, ids=ids, clock=clock, context=request_context)
    # What every writing use case takes: one transaction, the time, the events it
    # publishes after commit, and the audit rows it writes before.
    _writes = {"uow_factory": uow_factory, "clock": clock, "events": events, "auditor": auditor}
    login_policy = providers.Callable(_login_policy, settings)
    lockout_policy = providers.Callable(lambda policy: policy.lockout, login_policy)
    throttle = providers.Singleton(
        Throttle,
        limiter=rate_limiter,
        context=request_context,
        policy=providers.Callable(_throttle_policy, settings),
        on_rejected=providers.Object(count_rejection),
    )
    accounts = providers.Singleton(
        AccountCreator,
        uow_factory=uow_factory,
        hasher=password_hasher,
        ids=ids,
        clock=clock,
        events=events,
        password_rules=password_rules,
        auditor=auditor,
        emails=emails,
    )
    mail_dispatcher = providers.Singleton(
        MailDispatcher,
        uow_factory=uow_factory,
        notifier=notifier,
        clock=clock,
        on_error=providers.Object(_log_mail_failure),
    )

    # --- use cases ----------------------------------------------------------------------
    register_user = providers.Factory(
        RegisterUser,
        accounts,
        registration_enabled=settings.provided.registration_enabled,
        throttle=throttle,
        verification=providers.Callable(
            lambda s, request: request if s.require_verified_email else None,
            settings,
            providers.Factory(
                RequestEmailVerification,
                uow_factory=uow_factory,
                tokens=one_time_tokens,
                composer=mail_composer,
                ids=ids,
                clock=clock,
                policy=providers.Callable(_token_policy, settings),
                wake_mailer=mail_wake.provided.set,
            ),
        ),
    )
    log_in = providers.Factory(
        LogIn,
        uow_factory=uow_factory,
        hasher=password_hasher,
        minter=minter,
        ids=ids,
        clock=clock,
        events=events,
        auditor=auditor,
        policy=login_policy,
        throttle=throttle,
        mfa_tokens=token_service,
        emails=emails,
    )
    refresh_session = providers.Factory(
        RefreshSession,
        uow_factory=uow_factory,
        refresh_tokens=refresh_tokens,
        minter=minter,
        revoker=revoker,
        clock=clock,
        events=events,
        auditor=auditor,
        reuse_grace=providers.Callable(
            lambda s: timedelta(seconds=s.refresh_reuse_grace_seconds), settings
        ),
    )
    authenticate = providers.Factory(
        Authenticate,
        uow_factory=reads.provider,
        users=user_cache,
        verifier=token_service,
        revocations=revocation_store,
        clock=clock,
    )
    authenticate_api_key = providers.Factory(AuthenticateApiKey, secrets=api_key_secrets, **_writes)
    log_out = providers.Factory(LogOut, revoker=revoker, **_writes)
    log_out_everywhere = providers.Factory(LogOutEverywhere, revoker=revoker, **_writes)
    revoke_token = providers.Factory(
        RevokeToken,
        refresh_tokens=refresh_tokens,
        verifier=token_service,
        revoker=revoker,
        **_writes,
    )
    get_own_profile = providers.Factory(GetOwnProfile)
    update_own_profile = providers.Factory(UpdateOwnProfile, emails=emails, **_writes)
    change_password = providers.Factory(
        ChangePassword,
        uow_factory=uow_factory,
        hasher=password_hasher,
        revoker=revoker,
        clock=clock,
        events=events,
        password_rules=password_rules,
        auditor=auditor,
        lockout=lockout_policy,
    )
    list_own_sessions = providers.Factory(ListOwnSessions, uow_factory=uow_factory, clock=clock)
    count_active_sessions = providers.Factory(CountActiveSessions, uow_factory, clock)
    metrics_sampler = providers.Singleton(
        MetricsSampler, count_sessions=count_active_sessions.provided.execute, engine=engine
    )
    revoke_own_session = providers.Factory(RevokeOwnSession, revoker=revoker, **_writes)
    list_users = providers.Factory(ListUsers, uow_factory=uow_factory)
    get_user = providers.Factory(GetUser, uow_factory=uow_factory)
    create_user = providers.Factory(CreateUser, uow_factory, accounts)
    update_user = providers.Factory(UpdateUser, revoker=revoker, emails=emails, **_writes)
    delete_user = providers.Factory(DeleteUser, revoker=revoker, **_writes)
    assign_roles = providers.Factory(AssignRoles, **_writes)
    unlock_user = providers.Factory(UnlockUser, **_writes)
    list_roles = providers.Factory(ListRoles, uow_factory)
    get_role = providers.Factory(GetRole, uow_factory)
    create_role = providers.Factory(CreateRole, **_writes)
    change_role = providers.Factory(ChangeRole, **_writes)
    delete_role = providers.Factory(DeleteRole, **_writes)
    create_api_key = providers.Factory(CreateApiKey, secrets=api_key_secrets, ids=ids, **_writes)
    list_api_keys = providers.Factory(ListApiKeys, uow_factory)
    revoke_api_key = providers.Factory(RevokeApiKey, **_writes)
    list_audit_events = providers.Factory(ListAuditEvents, uow_factory)
    request_email_verification = providers.Factory(
        RequestEmailVerification,
        uow_factory=uow_factory,
        tokens=one_time_tokens,
        composer=mail_composer,
        ids=ids,
        clock=clock,
        policy=providers.Callable(_token_policy, settings),
        wake_mailer=mail_wake.provided.set,
        throttle=throttle,
    )
    request_password_reset = providers.Factory(
        RequestPasswordReset,
        uow_factory=uow_factory,
        tokens=one_time_tokens,
        composer=mail_composer,
        ids=ids,
        clock=clock,
        policy=providers.Callable(_token_policy, settings),
        wake_mailer=mail_wake.provided.set,
        throttle=throttle,
        emails=emails,
    )
    verify_email = providers.Factory(VerifyEmail, tokens=one_time_tokens, **_writes)
    reset_password = providers.Factory(
        ResetPassword,
        tokens=one_time_tokens,
        hasher=password_hasher,
        password_rules=password_rules,
        revoker=revoker,
        **_writes,
    )
    bootstrap_admin = providers.Factory(BootstrapAdmin, uow_factory=uow_factory, accounts=accounts)

    # --- HTTP edge ----------------------------------------------------------------------
    cursor_codec = providers.Singleton(
        CursorCodec, providers.Callable(lambda secret: secret.encode(), jwt_secret)
    )
    create_client = providers.Factory(CreateClient, **_writes)
    list_clients = providers.Factory(ListClients, uow_factory)
    revoke_client = providers.Factory(RevokeClient, **_writes)
    authenticate_client = providers.Factory(AuthenticateClient, uow_factory)
    rotate_signing_key = providers.Factory(
        RotateSigningKey, ring=key_ring, clock=clock, events=events, auditor=auditor
    )
    password_attempts = providers.Factory(PasswordAttempts, policy=lockout_policy, **_writes)
    setup_totp = providers.Factory(
        SetupTotp,
        uow_factory=uow_factory,
        engine=totp_engine,
        clock=clock,
        issuer=settings.provided.public_name,
        hasher=password_hasher,
        attempts=password_attempts,
    )
    confirm_totp = providers.Factory(
        ConfirmTotp,
        revoker=revoker,
        engine=totp_engine,
        lockout=lockout_policy,
        throttle=throttle,
        **_writes,
    )
    disable_totp = providers.Factory(
        DisableTotp,
        hasher=password_hasher,
        engine=totp_engine,
        lockout=lockout_policy,
        throttle=throttle,
        **_writes,
    )
    verify_mfa = providers.Factory(
        VerifyMfa,
        mfa_tokens=token_service,
        engine=totp_engine,
        minter=minter,
        ids=ids,
        policy=login_policy,
        throttle=throttle,
        **_writes,
    )
    issue_client_token = providers.Factory(IssueClientToken, uow_factory, token_service)
    introspect_token = providers.Factory(
        IntrospectToken,
        uow_factory=uow_factory,
        verifier=token_service,
        refresh_tokens=refresh_tokens,
        revocations=revocation_store,
        clock=clock,
    )
    service_info = providers.Callable(
        lambda s: {"name": s.public_name, "version": VERSION, "environment": s.environment.value},
        settings,
    )
    health_checks = providers.Callable(
        _readiness_checks, settings, engine, database_breaker, redis_breaker, revocation_store
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
