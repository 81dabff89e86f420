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

from adapters.emails.normaliser import EmailValidatorNormaliser
from adapters.jwt.keys import hs256_key
from adapters.jwt.refresh_tokens import OpaqueRefreshTokenGenerator
from adapters.jwt.token_service import PyJwtTokenService
from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.cache import InProcessCache
from adapters.memory.clock import FixedClock
from adapters.memory.event_publisher import InMemoryEventPublisher
from adapters.memory.id_generator import SequentialIdGenerator
from adapters.memory.notifier import InMemoryNotifier
from adapters.memory.password_blocklist import InMemoryPasswordBlocklist
from adapters.memory.rate_limiter import InMemoryRateLimiter
from adapters.memory.request_context import FixedRequestContext
from adapters.memory.revocation_store import InMemoryRevocationStore
from adapters.secrets.api_keys import HashedApiKeySecrets
from adapters.tiered_cache import TieredCache
from adapters.totp.totp_engine import PyotpTotpEngine
from application.accounts import AccountCreator
from application.attempts import PasswordAttempts
from application.audit import Auditor
from application.cache_invalidation import invalidating
from application.key_ring import KeyRing
from application.mail_dispatch import MailDispatcher
from application.mail_templates import MailComposer
from application.passwords import PasswordRules
from application.ports.request_context import RequestMeta
from application.ports.revocation_store import RevocationStore
from application.revocation import SessionRevoker
from application.security import Principal
from application.throttle import Throttle, ThrottlePolicy
from application.tokens import TokenMinter, TokenPair
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
from application.use_cases.api_keys.manage_api_keys import CreateApiKey, ListApiKeys, RevokeApiKey
from application.use_cases.audit.list_audit_events import ListAuditEvents
from application.use_cases.auth.authenticate import Authenticate, AuthenticateCommand
from application.use_cases.auth.authenticate_api_key import AuthenticateApiKey
from application.use_cases.auth.log_in import LogIn, LogInCommand, LoginPolicy
from application.use_cases.auth.log_out import LogOut, LogOutEverywhere
from application.use_cases.auth.refresh_session import RefreshSession
from application.use_cases.auth.register_user import RegisterUser, RegisterUserCommand
from application.use_cases.auth.revoke_token import RevokeToken
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
from application.use_cases.users.assign_roles import AssignRoles
from application.use_cases.users.bootstrap_admin import BootstrapAdmin, BootstrapAdminCommand
from application.use_cases.users.create_user import CreateUser
from application.use_cases.users.delete_user import DeleteUser
from application.use_cases.users.get_user import GetUser
from application.use_cases.users.list_users import ListUsers
from application.use_cases.users.unlock_user import UnlockUser
from application.use_cases.users.update_user import UpdateUser
from application.user_cache import UserCache
from domain.password_policy import PasswordPolicy
from domain.session import AuthSession
from domain.signing_keys import KeyAlgorithm
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
    context: FixedRequestContext
    notifier: InMemoryNotifier
    mailer: MailDispatcher
    authenticate_api_key: AuthenticateApiKey
    assign_roles: AssignRoles
    unlock_user: UnlockUser
    list_roles: ListRoles
    get_role: GetRole
    create_role: CreateRole
    change_role: ChangeRole
    delete_role: DeleteRole
    create_api_key: CreateApiKey
    list_api_keys: ListApiKeys
    revoke_api_key: RevokeApiKey
    list_audit_events: ListAuditEvents
    request_email_verification: RequestEmailVerification
    request_password_reset: RequestPasswordReset
    verify_email: VerifyEmail
    reset_password: ResetPassword
    totp: PyotpTotpEngine
    setup_totp: SetupTotp
    confirm_totp: ConfirmTotp
    disable_totp: DisableTotp
    verify_mfa: VerifyMfa

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
    store = store or InMemoryStore()
    clock = FixedClock()
    ids = SequentialIdGenerator()
    hasher = hasher or CountingPasswordHasher()
    events = events or InMemoryEventPublisher()
    revocations = revocations or InMemoryRevocationStore(clock)
    policy = PasswordPolicy()
    tokens = PyJwtTokenService(
        keys=KeyRing.static(
            [hs256_key(_JWT_SECRET)],
            token_lifetime=ACCESS_TTL + timedelta(seconds=JWT_LEEWAY_SECONDS),
            clock=clock,
        ),
        algorithms=frozenset({KeyAlgorithm.HS256}),
        issuer="hexahub-test",
        audience="hexahub-test",
        access_token_ttl_seconds=int(ACCESS_TTL.total_seconds()),
        clock=clock,
        leeway_seconds=JWT_LEEWAY_SECONDS,
    )
    refresh_tokens = OpaqueRefreshTokenGenerator()

    # As in the container: users and roles read through the cache, and every
    # transaction invalidates what it wrote.
    cache = TieredCache(InProcessCache())
    uow_factory = invalidating(lambda: InMemoryUnitOfWork(store), cache)

    minter = TokenMinter(tokens, refresh_tokens, clock, int(REFRESH_TTL.total_seconds()))
    # As in the container: an announcement outlives every access token that could carry
    # the session id, leeway included.
    revoker = SessionRevoker(
        revocations, ttl_seconds=int(ACCESS_TTL.total_seconds()) + JWT_LEEWAY_SECONDS
    )
    context = FixedRequestContext(
        RequestMeta(ip="203.0.113.7", user_agent="pytest", request_id="r1")
    )
    auditor = Auditor(ids, clock, context)
    rules = PasswordRules(policy, InMemoryPasswordBlocklist(["password", "123456", "qwertyuiop"]))
    throttle = Throttle(
        InMemoryRateLimiter(clock), context, throttle_policy or ThrottlePolicy(enabled=False)
    )
    emails = EmailValidatorNormaliser()
    accounts = AccountCreator(uow_factory, hasher, ids, clock, events, rules, auditor, emails)
    notifier = InMemoryNotifier()
    one_time = OpaqueRefreshTokenGenerator(prefix="hxo_")
    composer = MailComposer("https://id.example.test")
    mailer = MailDispatcher(uow_factory, notifier, clock)
    token_policy = OneTimeTokenPolicy()
    secrets = HashedApiKeySecrets()
    totp = PyotpTotpEngine()
    mfa_policy = login_policy or LoginPolicy()

    def wake() -> None:
        return None

    return App(
        store=store,
        clock=clock,
        hasher=hasher,
        events=events,
        revocations=revocations,
        tokens=tokens,
        refresh_tokens=refresh_tokens,
        register_user=RegisterUser(
            accounts, registration_enabled=registration_enabled, throttle=throttle
        ),
        log_in=LogIn(
            uow_factory,
            hasher,
            minter,
            ids,
            clock,
            events,
            auditor,
            login_policy,
            throttle,
            mfa_tokens=tokens,
            emails=emails,
        ),
        refresh_session=RefreshSession(
            uow_factory,
            refresh_tokens,
            minter,
            revoker,
            clock,
            events,
            auditor,
            reuse_grace=reuse_grace,
        ),
        authenticate=Authenticate(
            uow_factory, tokens, revocations, clock, users=UserCache(cache, uow_factory)
        ),
        log_out=LogOut(uow_factory, revoker, clock, events, auditor),
        log_out_everywhere=LogOutEverywhere(uow_factory, revoker, clock, events, auditor),
        revoke_token=RevokeToken(
            uow_factory, refresh_tokens, tokens, revoker, clock, events, auditor
        ),
        get_own_profile=GetOwnProfile(),
        update_own_profile=UpdateOwnProfile(uow_factory, clock, events, auditor, emails),
        change_password=ChangePassword(uow_factory, hasher, revoker, clock, events, rules, auditor),
        list_own_sessions=ListOwnSessions(uow_factory, clock),
        revoke_own_session=RevokeOwnSession(uow_factory, revoker, clock, events, auditor),
        list_users=ListUsers(uow_factory),
        get_user=GetUser(uow_factory),
        create_user=CreateUser(uow_factory, accounts),
        update_user=UpdateUser(uow_factory, revoker, clock, events, auditor, emails),
        delete_user=DeleteUser(uow_factory, revoker, clock, events, auditor),
        bootstrap_admin=BootstrapAdmin(uow_factory, accounts),
        context=context,
        notifier=notifier,
        mailer=mailer,
        authenticate_api_key=AuthenticateApiKey(uow_factory, secrets, clock, events, auditor),
        assign_roles=AssignRoles(uow_factory, clock, events, auditor),
        unlock_user=UnlockUser(uow_factory, clock, events, auditor),
        list_roles=ListRoles(uow_factory),
        get_role=GetRole(uow_factory),
        create_role=CreateRole(uow_factory, clock, events, auditor),
        change_role=ChangeRole(uow_factory, clock, events, auditor),
        delete_role=DeleteRole(uow_factory, clock, events, auditor),
        create_api_key=CreateApiKey(uow_factory, secrets, ids, clock, events, auditor),
        list_api_keys=ListApiKeys(uow_factory),
        revoke_api_key=RevokeApiKey(uow_factory, clock, events, auditor),
        list_audit_events=ListAuditEvents(uow_factory),
        request_email_verification=RequestEmailVerification(
            uow_factory, one_time, composer, ids, clock, token_policy, wake
        ),
        request_password_reset=RequestPasswordReset(
            uow_factory, one_time, composer, ids, clock, token_policy, wake, throttle, emails=emails
        ),
        verify_email=VerifyEmail(uow_factory, one_time, clock, events, auditor),
        reset_password=ResetPassword(
            uow_factory, one_time, hasher, rules, revoker, clock, events, auditor
        ),
        totp=totp,
        setup_totp=SetupTotp(
            uow_factory,
            totp,
            clock,
            issuer="HexaHub Test",
            hasher=hasher,
            attempts=PasswordAttempts(
                uow_factory, clock, events, auditor, (login_policy or LoginPolicy()).lockout
            ),
        ),
        confirm_totp=ConfirmTotp(
            uow_factory, totp, clock, events, auditor, mfa_policy.lockout, throttle, revoker
        ),
        disable_totp=DisableTotp(
            uow_factory, hasher, totp, clock, events, auditor, mfa_policy.lockout, throttle
        ),
        verify_mfa=VerifyMfa(
            uow_factory, tokens, totp, minter, ids, clock, events, auditor, mfa_policy, throttle
        ),
    )


@pytest.fixture
def make_app() -> Callable[..., App]:
    return build_app


@pytest.fixture
def app() -> App:
    return build_app()
