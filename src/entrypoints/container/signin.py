"""Browser sign-in: HexaHub as an OpenID Connect provider (codes, consents, id_tokens,
userinfo, logout)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import structlog
from dependency_injector import containers, providers

from adapters.jwt.id_tokens import PyJwtIdTokenService
from adapters.oidc.identity_providers import HttpxIdentityProviders, ProviderConfig
from application.ports.cache import Cache
from application.ports.clock import Clock
from application.ports.key_factory import KeyFactory
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.signin.use_cases.end_session import EndSession
from application.signin.use_cases.exchange_code import ExchangeAuthorizationCode
from application.signin.use_cases.issue_code import IssueAuthorizationCode
from application.signin.use_cases.manage_consents import ListConsents, RevokeConsent
from application.signin.use_cases.manage_external_identities import (
    AdminLinkExternalIdentity,
    LinkExternalIdentity,
    ListExternalIdentities,
    UnlinkExternalIdentity,
)
from application.signin.use_cases.resolve_sign_in import ResolveSignIn
from application.signin.use_cases.sign_in_externally import SignInExternally
from application.signin.use_cases.user_info import GetUserInfo
from application.signin.use_cases.validate_authorization import ValidateAuthorization
from application.tokens.key_ring import KeyRing
from domain.tokens.signing_keys import KeyAlgorithm
from entrypoints.config.settings import Settings
from entrypoints.container.lifecycle import Loop, supervised

log = structlog.get_logger()

ID_TOKEN_TTL_SECONDS = 300
"""id_tokens are read once, right after the code exchange (OIDC Core §3.1.3.7)."""


def _id_token_ring(
    settings: Settings,
    access_ring: KeyRing,
    uow_factory: UnitOfWorkFactory,
    key_factory: KeyFactory,
    clock: Clock,
) -> KeyRing:
    """The access-token ring when it signs asymmetrically; otherwise (HS256) a ring of
    stored keys of its own, so id_tokens verify from the JWKS (a relying party cannot
    check an HS256 token without our secret)."""
    if not access_ring.signing_algorithm.is_symmetric:
        return access_ring
    return KeyRing.stored(
        uow_factory=uow_factory,
        key_factory=key_factory,
        signing_algorithm=KeyAlgorithm(settings.oidc_id_token_algorithm),
        token_lifetime=timedelta(seconds=ID_TOKEN_TTL_SECONDS + settings.jwt_leeway_seconds),
        clock=clock,
    )


async def _refreshing_own_ring(
    ring: KeyRing, access_ring: KeyRing, cache: Cache, settings: Settings
) -> AsyncIterator[object]:
    """A ring of its own gets its first key, and learns of other instances' keys, like
    the access ring; a shared one is already looked after. Unlike access tokens, nothing
    but the code exchange needs this key, so a database that is down at start-up does
    not stop the service: the key is made on a later round, and until then the code
    exchange answers 503."""
    if ring is access_ring:
        yield None
        return

    async def ensure() -> None:
        try:
            await ring.ensure_key(ring.signing_algorithm)  # creates only if none is active
        except Exception as error:  # a surprise must not end the loop
            log.warning("id_token_keys_refresh_failed", error=type(error).__name__)

    await ensure()

    async def keep_fresh() -> None:
        while True:
            await asyncio.sleep(settings.key_refresh_interval_seconds)
            await ensure()

    async with supervised("id-token-keys", keep_fresh) as task:
        yield task


def _provider_configs(settings: Settings) -> list[ProviderConfig]:
    return [
        ProviderConfig(
            name=p.name,
            issuer=p.issuer,
            client_id=p.client_id,
            client_secret=p.client_secret.get_secret_value(),
            display_name=p.display_name,
        )
        for p in settings.oidc_providers
    ]


class SignIn(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    security = providers.DependenciesContainer()
    caching = providers.DependenciesContainer()
    events = providers.DependenciesContainer()
    tokens = providers.DependenciesContainer()
    identity = providers.DependenciesContainer()

    id_token_ring = providers.Singleton(
        _id_token_ring,
        settings,
        tokens.key_ring,
        events.uow_factory,
        tokens.key_factory,
        core.clock,
    )
    id_token_ring_refreshing = Loop(
        _refreshing_own_ring, id_token_ring, tokens.key_ring, caching.cache, settings
    )
    id_tokens = providers.Singleton(
        PyJwtIdTokenService,
        keys=id_token_ring,
        issuer=providers.Callable(lambda s: s.oidc_issuer, settings),
        ttl_seconds=ID_TOKEN_TTL_SECONDS,
        clock=core.clock,
    )

    _uow = (events.uow_factory, core.clock)
    validate_authorization = providers.Singleton(ValidateAuthorization, events.uow_factory)
    issue_authorization_code = providers.Singleton(
        IssueAuthorizationCode,
        *_uow,
        providers.Callable(lambda s: timedelta(seconds=s.authorization_code_ttl_seconds), settings),
    )
    resolve_sign_in = providers.Singleton(ResolveSignIn, *_uow, security.refresh_tokens)
    exchange_authorization_code = providers.Singleton(
        ExchangeAuthorizationCode, *_uow, identity.opener, id_tokens
    )
    get_user_info = providers.Singleton(GetUserInfo)
    end_session = providers.Singleton(EndSession, *_uow, id_tokens)
    list_consents = providers.Singleton(ListConsents, *_uow)
    revoke_consent = providers.Singleton(RevokeConsent, *_uow)

    identity_providers = providers.Singleton(
        HttpxIdentityProviders, providers.Callable(_provider_configs, settings)
    )
    sign_in_externally = providers.Singleton(
        SignInExternally, *_uow, identity.opener, core.ids, security.emails
    )
    link_external_identity = providers.Singleton(LinkExternalIdentity, *_uow)
    admin_link_external_identity = providers.Singleton(
        AdminLinkExternalIdentity,
        *_uow,
        providers.Callable(lambda s: frozenset(p.name for p in s.oidc_providers), settings),
    )
    list_external_identities = providers.Singleton(ListExternalIdentities, *_uow)
    unlink_external_identity = providers.Singleton(UnlinkExternalIdentity, *_uow)
