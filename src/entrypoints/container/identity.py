"""Accounts, sign-in, sessions, one's own account, administration and the second factor."""

from datetime import timedelta

from dependency_injector import containers, providers

from application.identity.accounts import AccountCreator
from application.identity.attempts import LoginPolicy, PasswordAttempts
from application.identity.notices import ChangeNotices
from application.identity.one_time_mail import OneTimeMail, OneTimeTokenPolicy
from application.identity.reauthentication import PasswordReauthenticator
from application.identity.sessions import SessionOpener
from application.identity.use_cases.bootstrap_admin import BootstrapAdmin
from application.identity.use_cases.change_password import ChangePassword
from application.identity.use_cases.confirm_totp import ConfirmTotp
from application.identity.use_cases.count_active_sessions import CountActiveSessions
from application.identity.use_cases.create_user import CreateUser
from application.identity.use_cases.delete_user import DeleteUser
from application.identity.use_cases.disable_totp import DisableTotp
from application.identity.use_cases.end_user_sessions import EndUserSessions
from application.identity.use_cases.get_own_profile import GetOwnProfile
from application.identity.use_cases.get_user import GetUser
from application.identity.use_cases.list_own_sessions import ListOwnSessions
from application.identity.use_cases.list_users import ListUsers
from application.identity.use_cases.log_in import LogIn
from application.identity.use_cases.log_out import LogOut, LogOutEverywhere
from application.identity.use_cases.refresh_session import RefreshSession
from application.identity.use_cases.register_user import RegisterUser
from application.identity.use_cases.revoke_own_session import RevokeOwnSession
from application.identity.use_cases.revoke_token import RevokeToken
from application.identity.use_cases.setup_totp import SetupTotp
from application.identity.use_cases.unlock_user import UnlockUser
from application.identity.use_cases.update_own_profile import UpdateOwnProfile
from application.identity.use_cases.update_user import UpdateUser
from application.identity.use_cases.verification import (
    RequestEmailVerification,
    RequestPasswordReset,
    ResetPassword,
    VerifyEmail,
)
from application.identity.use_cases.verify_mfa import VerifyMfa
from entrypoints.config.settings import Settings


def _token_policy(s: Settings) -> OneTimeTokenPolicy:
    return OneTimeTokenPolicy(
        verification_ttl=timedelta(seconds=s.verification_token_ttl_seconds),
        reset_ttl=timedelta(seconds=s.reset_token_ttl_seconds),
    )


def _lockout(policy: LoginPolicy) -> object:
    return policy.lockout


class Identity(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    security = providers.DependenciesContainer()
    events = providers.DependenciesContainer()
    tokens = providers.DependenciesContainer()
    mail = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()

    # What (almost) every use case holds: a unit of work per transaction, and the time.
    _uow = (events.uow_factory, core.clock)

    # --- shared services, built once -----------------------------------------------
    attempts = providers.Singleton(
        PasswordAttempts,
        events.uow_factory,
        core.clock,
        providers.Callable(_lockout, security.login_policy),
    )
    accounts = providers.Singleton(
        AccountCreator,
        events.uow_factory,
        security.password_hasher,
        core.ids,
        core.clock,
        security.password_rules,
        security.emails,
    )
    # The one rule for sensitive changes to one's own account (email, username, API keys).
    reauthenticator = providers.Singleton(
        PasswordReauthenticator,
        events.uow_factory,
        core.clock,
        security.password_hasher,
        attempts,
        providers.Callable(lambda s: timedelta(seconds=s.reauth_window_seconds), settings),
    )
    notices = providers.Singleton(ChangeNotices, mail.composer, core.ids, mail.wake.provided.set)
    opener = providers.Singleton(SessionOpener, tokens.minter, core.ids, core.clock)
    # Checks of what a person typed share the lockout bookkeeping and the rate limits.
    _guards = {"attempts": attempts, "throttle": security.throttle}
    one_time_mail = providers.Singleton(
        OneTimeMail,
        events.uow_factory,
        security.one_time_tokens,
        mail.composer,
        core.ids,
        core.clock,
        providers.Singleton(_token_policy, settings),
        security.throttle,
        mail.wake.provided.set,
        security.emails,
    )

    # --- signing in and out ----------------------------------------------------------
    register_user = providers.Singleton(
        RegisterUser,
        accounts,
        security.throttle,
        one_time_mail,
        registration_enabled=settings.provided.registration_enabled,
        require_verified_email=settings.provided.require_verified_email,
    )
    log_in = providers.Singleton(
        LogIn,
        *_uow,
        **_guards,
        hasher=security.password_hasher,
        opener=opener,
        mfa_tokens=tokens.token_service,
        policy=security.login_policy,
        emails=security.emails,
        reads=persistence.reads.provider,
    )
    refresh_session = providers.Singleton(
        RefreshSession,
        *_uow,
        refresh_tokens=security.refresh_tokens,
        minter=tokens.minter,
        reuse_grace=providers.Callable(
            lambda s: timedelta(seconds=s.refresh_reuse_grace_seconds), settings
        ),
    )
    log_out = providers.Singleton(LogOut, *_uow)
    log_out_everywhere = providers.Singleton(LogOutEverywhere, *_uow)
    revoke_token = providers.Singleton(
        RevokeToken, *_uow, security.refresh_tokens, tokens.token_service
    )

    # --- one's own account -----------------------------------------------------------
    get_own_profile = providers.Singleton(GetOwnProfile)
    update_own_profile = providers.Singleton(
        UpdateOwnProfile, *_uow, security.emails, reauthenticator, notices
    )
    change_password = providers.Singleton(
        ChangePassword, *_uow, security.password_hasher, security.password_rules, attempts
    )
    list_own_sessions = providers.Singleton(ListOwnSessions, *_uow)
    revoke_own_session = providers.Singleton(RevokeOwnSession, *_uow)
    count_active_sessions = providers.Singleton(CountActiveSessions, *_uow)
    request_email_verification = providers.Singleton(RequestEmailVerification, one_time_mail)
    request_password_reset = providers.Singleton(
        RequestPasswordReset, one_time_mail, security.throttle
    )
    verify_email = providers.Singleton(VerifyEmail, *_uow, one_time_mail)
    reset_password = providers.Singleton(
        ResetPassword, *_uow, one_time_mail, security.password_hasher, security.password_rules
    )

    # --- administration --------------------------------------------------------------
    # A read-only transaction: on SQLite it takes no write lock.
    list_users = providers.Singleton(ListUsers, persistence.reads.provider)
    get_user = providers.Singleton(GetUser, events.uow_factory)
    create_user = providers.Singleton(CreateUser, events.uow_factory, accounts)
    update_user = providers.Singleton(UpdateUser, *_uow, security.emails, notices)
    delete_user = providers.Singleton(DeleteUser, *_uow)
    unlock_user = providers.Singleton(UnlockUser, *_uow, security.throttle)
    end_user_sessions = providers.Singleton(EndUserSessions, *_uow)
    bootstrap_admin = providers.Singleton(BootstrapAdmin, events.uow_factory, accounts)

    # --- the second factor -----------------------------------------------------------
    setup_totp = providers.Singleton(
        SetupTotp,
        *_uow,
        security.totp_engine,
        security.password_hasher,
        attempts,
        issuer=settings.provided.public_name,
    )
    confirm_totp = providers.Singleton(ConfirmTotp, *_uow, **_guards, engine=security.totp_engine)
    disable_totp = providers.Singleton(
        DisableTotp,
        *_uow,
        **_guards,
        hasher=security.password_hasher,
        engine=security.totp_engine,
    )
    verify_mfa = providers.Singleton(
        VerifyMfa,
        *_uow,
        **_guards,
        mfa_tokens=tokens.token_service,
        engine=security.totp_engine,
        opener=opener,
    )
