"""Signing keys, token issuing and verification, service clients, introspection."""

import asyncio
from collections.abc import AsyncIterator, Callable, Collection
from datetime import timedelta

import structlog
from dependency_injector import containers, providers

from adapters.crypto.file_keys import load_signing_keys
from adapters.crypto.key_factory import CryptographyKeyFactory
from adapters.jwt.keys import hs256_key
from adapters.jwt.token_service import PyJwtTokenService
from adapters.tiered_cache import TieredCache
from application.caching.user_cache import SIGNING_KEYS_KEY
from application.errors import ServiceUnavailableError
from application.identity.token_pairs import TokenMinter
from application.ports.cache import Cache
from application.ports.clock import Clock
from application.ports.key_factory import KeyFactory
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.tokens.key_ring import KeyRing
from application.tokens.use_cases.authenticate import Authenticate
from application.tokens.use_cases.authenticate_client import AuthenticateClient
from application.tokens.use_cases.client_credentials import IssueClientToken
from application.tokens.use_cases.introspect import IntrospectToken
from application.tokens.use_cases.manage_clients import CreateClient, ListClients, RevokeClient
from application.tokens.use_cases.rotate_signing_key import RotateSigningKey
from domain.tokens.signing_keys import KeyAlgorithm
from entrypoints.config.settings import Settings
from entrypoints.container.lifecycle import Loop, supervised

log = structlog.get_logger()


def _key_ring(
    settings: Settings,
    uow_factory: UnitOfWorkFactory,
    key_factory: KeyFactory,
    jwt_secret: str,
    clock: Clock,
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


async def _refresh_quietly(ring: KeyRing) -> None:
    """Reload the keys; a failure keeps the ones loaded and is logged, never raised (a
    surprise must not end the refresh loop, or this instance would stop learning of
    rotations). The class only in the log."""
    try:
        await ring.refresh()
    except ServiceUnavailableError as error:
        log.warning("signing_keys_refresh_failed", error=error.code)
    except Exception as error:
        log.error("signing_keys_refresh_failed", error=type(error).__name__)


def _reload_on_rotation(ring: KeyRing) -> Callable[[Collection[str]], None]:
    """A rotation on any instance reloads the keys here at once; the periodic refresh
    stays as the backstop for a missed message."""
    reloads: set[asyncio.Task[None]] = set()

    def listener(keys: Collection[str]) -> None:
        if SIGNING_KEYS_KEY in keys:
            task = asyncio.get_running_loop().create_task(_refresh_quietly(ring))
            reloads.add(task)  # held until done, so it is not collected mid-flight
            task.add_done_callback(reloads.discard)

    return listener


async def _refreshing(ring: KeyRing, cache: Cache, settings: Settings) -> AsyncIterator[object]:
    """Stored keys: the first one exists before the service answers, and rotations made
    by other instances (or the command line) are learnt within one interval."""
    if ring.is_static:
        yield None
        return
    await ring.ensure_key(ring.signing_algorithm)
    if isinstance(cache, TieredCache):
        cache.on_invalidated(_reload_on_rotation(ring))

    async def refresh_forever() -> None:
        while True:
            await asyncio.sleep(settings.key_refresh_interval_seconds)
            await _refresh_quietly(ring)

    async with supervised("key-refresh", refresh_forever) as task:
        yield task


class Tokens(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    security = providers.DependenciesContainer()
    caching = providers.DependenciesContainer()
    events = providers.DependenciesContainer()

    key_factory = providers.Singleton(CryptographyKeyFactory)
    key_ring = providers.Singleton(
        _key_ring, settings, events.uow_factory, key_factory, core.jwt_secret, core.clock
    )
    token_service = providers.Singleton(
        PyJwtTokenService,
        keys=key_ring,
        algorithms=providers.Callable(
            lambda s: frozenset({KeyAlgorithm(s.jwt_algorithm)}), settings
        ),
        issuer=providers.Callable(lambda s: s.effective_jwt_issuer, settings),
        audience=settings.provided.jwt_audience,
        access_token_ttl_seconds=settings.provided.access_token_ttl_seconds,
        clock=core.clock,
        leeway_seconds=settings.provided.jwt_leeway_seconds,
    )
    minter = providers.Singleton(
        TokenMinter,
        issuer=token_service,
        refresh_tokens=security.refresh_tokens,
        clock=core.clock,
        refresh_token_ttl_seconds=settings.provided.refresh_token_ttl_seconds,
    )
    refreshing = Loop(_refreshing, key_ring, caching.cache, settings)

    authenticate = providers.Singleton(
        Authenticate,
        reads=persistence.reads.provider,
        verifier=token_service,
        revocations=security.revocation_store,
        clock=core.clock,
        users=caching.user_cache,
    )
    authenticate_client = providers.Singleton(AuthenticateClient, events.uow_factory)
    create_client = providers.Singleton(CreateClient, events.uow_factory, core.clock)
    list_clients = providers.Singleton(ListClients, events.uow_factory)
    revoke_client = providers.Singleton(RevokeClient, events.uow_factory, core.clock)
    rotate_signing_key = providers.Singleton(RotateSigningKey, key_ring)
    issue_client_token = providers.Singleton(IssueClientToken, events.uow_factory, token_service)
    introspect_token = providers.Singleton(
        IntrospectToken,
        uow_factory=events.uow_factory,
        verifier=token_service,
        refresh_tokens=security.refresh_tokens,
        revocations=security.revocation_store,
        clock=core.clock,
    )
