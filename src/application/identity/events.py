"""How identity's events leave the service (see `application.events.catalog`)."""

from application.events.catalog import ACCOUNT, USERS, EventSpec, EventTable, fields
from domain.identity.events import (
    AccountLocked,
    AccountUnlocked,
    EmailVerified,
    LoginFailed,
    MfaChallengePassed,
    MfaDisabled,
    MfaEnabled,
    PasswordChanged,
    PasswordReset,
    RecoveryCodeUsed,
    RefreshReuseDetected,
    RolesAssigned,
    SessionRefreshed,
    SessionRevoked,
    UserCreated,
    UserDeactivated,
    UserDeleted,
    UserLoggedIn,
    UserRegistered,
    UserUpdated,
)

# As `GET /users/{id}` and `GET /auth/sessions` show them (no hash, no token).
USER = fields(
    "id",
    "email",
    "username",
    "full_name",
    "is_active",
    "is_verified",
    "roles",
    "oauth_provider",
    "created_at",
    "updated_at",
    "last_login_at",
)
SESSION = fields("id", "created_at", "last_used_at", "expires_at", "ip", "user_agent")


def _user(name: str, topic: str = USERS) -> EventSpec:
    return EventSpec(name=name, topic=topic, subject=lambda e: e.user_id, view=USER)


def _session(name: str) -> EventSpec:
    return EventSpec(name=name, topic=ACCOUNT, subject=lambda e: e.session_id, view=SESSION)


def _account(name: str) -> EventSpec:
    """An event about one's own account that no resource shows: its facts are the data."""
    return EventSpec(name=name, topic=ACCOUNT, subject=lambda e: e.user_id or "")


IDENTITY_EVENTS: EventTable = {
    UserRegistered: _user("user.registered"),
    UserCreated: _user("user.created"),
    UserUpdated: _user("user.updated"),
    UserDeactivated: _user("user.deactivated"),
    UserDeleted: EventSpec(
        name="user.deleted", topic=USERS, subject=lambda e: e.user_id, view=fields("id")
    ),
    RolesAssigned: _user("user.roles_assigned"),
    EmailVerified: _user("user.email_verified"),
    AccountLocked: _user("user.locked"),
    AccountUnlocked: _user("user.unlocked"),
    UserLoggedIn: _user("user.logged_in", ACCOUNT),
    PasswordChanged: _user("user.password_changed", ACCOUNT),
    PasswordReset: _user("user.password_reset", ACCOUNT),
    LoginFailed: _account("user.login_failed"),
    SessionRefreshed: _session("session.refreshed"),
    RefreshReuseDetected: _session("session.reuse_detected"),
    SessionRevoked: _session("session.revoked"),
    # The factor itself holds the seed and the recovery digests: never its view.
    MfaEnabled: _account("mfa.enabled"),
    MfaDisabled: _account("mfa.disabled"),
    MfaChallengePassed: _account("mfa.challenge_passed"),
    RecoveryCodeUsed: _account("mfa.recovery_code_used"),
}
