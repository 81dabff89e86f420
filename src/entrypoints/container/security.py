"""Passwords, rate limits, revocations and the secrets of keys and tokens."""

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

from dependency_injector import containers, providers

from adapters.argon2.password_hasher import Argon2PasswordHasher
from adapters.emails.normaliser import EmailValidatorNormaliser
from adapters.jwt.refresh_tokens import OpaqueRefreshTokenGenerator
from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.memory.revocation_store import InMemoryRevocationStore
from adapters.metrics.throttle import count_rejection
from adapters.passwords.common_passwords import CommonPasswordBlocklist
from adapters.redis.mirrored_revocation_store import MirroredRevocationStore
from adapters.redis.rate_limiter import RedisRateLimiter
from adapters.redis.revocation_store import RedisRevocationStore
from adapters.resilience.fallback_rate_limiter import FallbackRateLimiter
from adapters.secrets.api_keys import HashedApiKeySecrets
from adapters.totp.totp_engine import PyotpTotpEngine
from application.identity.attempts import LoginPolicy
from application.identity.passwords import PasswordRules
from application.identity.throttle import Rate, Throttle, ThrottlePolicy
from application.ports.password_hasher import PasswordHasher
from application.ports.revocation_store import RevocationStore
from domain.identity.password_policy import PasswordPolicy
from entrypoints.config.settings import Settings, parse_rate
from entrypoints.container.core import redis_feed, redis_or_memory
from entrypoints.container.lifecycle import Loop, supervised
from entrypoints.http.middleware.admission import SteppingAsideHasher


def _hasher(settings: Settings) -> Iterator[PasswordHasher]:
    hasher = Argon2PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost_kib,
        parallelism=settings.argon2_parallelism,
        max_concurrency=settings.effective_hash_concurrency,
        max_waiting=settings.password_hash_max_waiting,
        queue_timeout=settings.password_hash_queue_timeout_seconds,
        thread_nice=settings.password_hash_nice,
    )
    try:
        yield SteppingAsideHasher(hasher)
    finally:
        hasher.shutdown()


async def _mirroring(store: RevocationStore) -> AsyncIterator[object]:
    """Feeds this instance's copy of the revoked sessions (Redis only)."""
    mirrored = store if isinstance(store, MirroredRevocationStore) else None
    async with supervised("revocations", mirrored.listen if mirrored else None) as task:
        yield task


def _throttle_policy(s: Settings) -> ThrottlePolicy:
    def rate(spec: str) -> Rate:
        return Rate(*parse_rate(spec))

    return ThrottlePolicy(
        enabled=s.rate_limit_enabled,
        login_per_account=rate(s.rate_limit_login_per_account),
        login_per_client=rate(s.rate_limit_login_per_client),
        register_per_client=rate(s.rate_limit_register_per_client),
        reset_per_client=rate(s.rate_limit_reset_per_client),
        reset_per_email=rate(s.rate_limit_reset_per_email),
        reset_per_email_client=rate(s.rate_limit_reset_per_email_client),
        requests_per_client=rate(s.rate_limit_requests_per_client),
    )


def _login_policy(s: Settings) -> LoginPolicy:
    return LoginPolicy(
        lockout_threshold=s.lockout_threshold,
        lockout_base=timedelta(seconds=s.lockout_base_seconds),
        lockout_ceiling=timedelta(seconds=s.lockout_max_seconds),
        require_verified_email=s.require_verified_email,
    )


class Security(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()

    password_hasher = providers.Resource(_hasher, settings)
    password_policy = providers.Singleton(
        PasswordPolicy,
        min_length=settings.provided.password_min_length,
        max_length=settings.provided.password_max_length,
    )
    password_blocklist = providers.Singleton(CommonPasswordBlocklist)
    password_rules = providers.Singleton(PasswordRules, password_policy, password_blocklist)
    login_policy = providers.Singleton(_login_policy, settings)
    api_key_secrets = providers.Singleton(HashedApiKeySecrets)
    emails = providers.Singleton(EmailValidatorNormaliser)
    refresh_tokens = providers.Singleton(OpaqueRefreshTokenGenerator)
    one_time_tokens = providers.Singleton(OpaqueRefreshTokenGenerator, prefix="hxo_")
    totp_engine = providers.Singleton(PyotpTotpEngine)

    revocation_store = providers.Selector(
        providers.Callable(redis_or_memory, settings),
        # Asked by every authenticated request: answered from this instance's mirror,
        # Redis keeps the shared record and carries the announcements.
        redis=providers.Singleton(
            MirroredRevocationStore,
            providers.Singleton(
                RedisRevocationStore,
                core.redis_client,
                prefix=settings.provided.redis_key_prefix,
                breaker=core.redis_breaker,
            ),
            redis_feed(core, settings, "revocations"),
            clock=core.clock,
        ),
        memory=providers.Singleton(InMemoryRevocationStore, core.clock),
    )
    revocation_mirroring = Loop(_mirroring, revocation_store)
    rate_limiter = providers.Selector(
        providers.Callable(redis_or_memory, settings),
        # Redis down: each instance limits in process until Redis answers again.
        redis=providers.Singleton(
            FallbackRateLimiter,
            primary=providers.Singleton(
                RedisRateLimiter,
                core.redis_client,
                prefix=providers.Callable(lambda s: f"{s.redis_key_prefix}rl:", settings),
                breaker=core.redis_breaker,
            ),
            fallback=providers.Singleton(InMemoryRateLimiter, core.clock),
        ),
        memory=providers.Singleton(InMemoryRateLimiter, core.clock),
    )
    throttle_policy = providers.Singleton(_throttle_policy, settings)
    throttle = providers.Singleton(
        Throttle,
        limiter=rate_limiter,
        context=core.request_context,
        policy=throttle_policy,
        on_rejected=providers.Object(count_rejection),
    )
