"""What the audit trail says of each domain event.

The unit of work appends the rows in the same transaction as the change (adding who
acted and the request's facts), so an audited change and its audit row are durable
together or not at all.
"""

from domain.access.events import (
    ApiKeyCreated,
    ApiKeyFirstUsed,
    ApiKeyRevoked,
    RoleCreated,
    RoleDeleted,
    RoleUpdated,
)
from domain.audit.entries import AuditDetail, Outcome
from domain.common.events import DomainEvent
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
from domain.releases.events import (
    DeploymentCreated,
    DeploymentStatusChanged,
    EnvironmentCreated,
    ReleaseCreated,
    ReleaseNotesChanged,
    ReleaseStatusChanged,
)
from domain.signin.events import (
    AuthorizationCodeReplayed,
    ConsentGranted,
    ConsentRevoked,
    ExternalIdentityLinked,
    ExternalIdentityUnlinked,
)
from domain.tokens.events import ServiceClientCreated, ServiceClientRevoked, SigningKeyRotated
from domain.webhooks.events import WebhookCreated, WebhookDeleted, WebhookDisabled, WebhookUpdated

Described = tuple[str, str | None, Outcome, dict[str, AuditDetail]]

# Refused second-factor and re-authentication steps, recorded as `LoginFailed` (so
# they count towards the lockout): the reason names the step, the row says (action, why).
_MFA_REFUSALS: dict[str, tuple[str, str]] = {
    "mfa_invalid_code": ("auth.mfa", "invalid_code"),
    "mfa_locked": ("auth.mfa", "locked"),
    "mfa_confirm_invalid_code": ("mfa.enable", "invalid_code"),
    "mfa_confirm_locked": ("mfa.enable", "locked"),
    "mfa_disable_wrong_password": ("mfa.disable", "wrong_password"),
    "mfa_disable_invalid_code": ("mfa.disable", "invalid_code"),
    "mfa_disable_locked": ("mfa.disable", "locked"),
    # A sensitive change (email, username, API key) refused for its current_password.
    "reauth_wrong_password": ("auth.reauthenticate", "wrong_password"),
}


def describe(event: DomainEvent) -> Described | None:
    """(action, target, outcome, details) for an audited event; None otherwise."""
    ok, failed = Outcome.SUCCESS, Outcome.FAILURE
    match event:
        case UserRegistered(user_id=u):
            return "user.registered", str(u), ok, {}
        case UserCreated(user_id=u):
            return "user.created", str(u), ok, {}
        case UserLoggedIn(user_id=u, session_id=s):
            return "auth.login", str(u), ok, {"session_id": str(s)}
        case LoginFailed(user_id=u, reason="wrong_current_password"):
            return "password.change", str(u) if u else None, failed, {}
        case LoginFailed(user_id=u, reason=r) if r in _MFA_REFUSALS:
            action, why = _MFA_REFUSALS[r]
            return action, str(u) if u else None, failed, {"reason": why}
        case LoginFailed(user_id=u, reason=r):
            return "auth.login", str(u) if u else None, failed, {"reason": r}
        case SessionRefreshed(user_id=u, session_id=s):
            return "auth.refresh", str(u), ok, {"session_id": str(s)}
        case RefreshReuseDetected(user_id=u, session_id=s):
            return "auth.refresh_reuse_detected", str(u), failed, {"session_id": str(s)}
        case SessionRevoked(user_id=u, session_id=s, reason=r):
            action = "auth.logout" if r in ("logout", "logout_all") else "session.revoked"
            return action, str(u), ok, {"session_id": str(s), "reason": r}
        case PasswordChanged(user_id=u):
            return "password.changed", str(u), ok, {}
        case PasswordReset(user_id=u):
            return "password.reset", str(u), ok, {}
        case EmailVerified(user_id=u):
            return "email.verified", str(u), ok, {}
        case UserUpdated(user_id=u, fields=f):
            return "user.updated", str(u), ok, {"fields": ",".join(f)}
        case UserDeactivated(user_id=u):
            return "user.deactivated", str(u), ok, {}
        case UserDeleted(user_id=u):
            return "user.deleted", str(u), ok, {}
        case RolesAssigned(user_id=u, roles=r):
            return "role.assigned", str(u), ok, {"roles": ",".join(r)}
        case RoleCreated(role=r):
            return "role.created", r, ok, {}
        case RoleUpdated(role=r, previous_name=p, fields=f):
            return "role.updated", r, ok, {"previous_name": p, "fields": ",".join(f)}
        case RoleDeleted(role=r):
            return "role.deleted", r, ok, {}
        case ApiKeyCreated(key_id=k, owner_id=o):
            return "api_key.created", str(k), ok, {"owner_id": str(o)}
        case ApiKeyRevoked(key_id=k, owner_id=o):
            return "api_key.revoked", str(k), ok, {"owner_id": str(o)}
        case ApiKeyFirstUsed(key_id=k, owner_id=o):
            return "api_key.first_used", str(k), ok, {"owner_id": str(o)}
        case AccountLocked(user_id=u, until=t):
            return "account.locked", str(u), ok, {"until": t.isoformat()}
        case AccountUnlocked(user_id=u):
            return "account.unlocked", str(u), ok, {}
        case SigningKeyRotated(kid=k, retired_kid=r):
            return "key.rotated", k, ok, {"retired_kid": r}
        case WebhookCreated(webhook_id=w):
            return "webhook.created", str(w), ok, {}
        case WebhookUpdated(webhook_id=w, fields=changed):
            return "webhook.updated", str(w), ok, {"fields": ",".join(changed)}
        case WebhookDeleted(webhook_id=w):
            return "webhook.deleted", str(w), ok, {}
        case WebhookDisabled(webhook_id=w, failures=n):
            return "webhook.disabled", str(w), ok, {"failures": n}
        case ServiceClientCreated(client_id=c):
            return "client.created", c, ok, {}
        case ServiceClientRevoked(client_id=c):
            return "client.revoked", c, ok, {}
        case MfaEnabled(user_id=u):
            return "mfa.enabled", str(u), ok, {}
        case MfaDisabled(user_id=u):
            return "mfa.disabled", str(u), ok, {}
        case MfaChallengePassed(user_id=u, method=m):
            return "auth.mfa_passed", str(u), ok, {"method": m}
        case RecoveryCodeUsed(user_id=u, remaining=n):
            return "mfa.recovery_code_used", str(u), ok, {"remaining": n}
        case ConsentGranted(user_id=u, client_id=c, scopes=s):
            return "consent.granted", str(u), ok, {"client_id": c, "scopes": " ".join(s)}
        case ConsentRevoked(user_id=u, client_id=c):
            return "consent.revoked", str(u), ok, {"client_id": c}
        case ExternalIdentityLinked(user_id=u, provider=p, how=h):
            return "external_identity.linked", str(u), ok, {"provider": p, "how": h}
        case ExternalIdentityUnlinked(user_id=u, provider=p):
            return "external_identity.unlinked", str(u), ok, {"provider": p}
        case AuthorizationCodeReplayed(user_id=u, client_id=c, session_id=s):
            return "auth.code_replayed", str(u), failed, {"client_id": c, "session_id": str(s)}
    return _describe_releases(event)


def _describe_releases(event: DomainEvent) -> Described | None:
    """The releases context's changes, each in the trail."""
    ok = Outcome.SUCCESS
    match event:
        case ReleaseCreated(release_id=r, name=n, version=v):
            return "release.created", str(r), ok, {"name": n, "version": v}
        case ReleaseStatusChanged(release_id=r, previous=p, status=s):
            return "release.status_changed", str(r), ok, {"from": p, "to": s}
        case ReleaseNotesChanged(release_id=r):
            return "release.updated", str(r), ok, {"fields": "notes"}
        case EnvironmentCreated(environment=e):
            return "environment.created", e, ok, {}
        case DeploymentCreated(deployment_id=d, release_id=r, environment=e):
            return "deployment.created", str(d), ok, {"release_id": str(r), "environment": e}
        case DeploymentStatusChanged(deployment_id=d, environment=e, previous=p, status=s):
            return "deployment.status_changed", str(d), ok, {"environment": e, "from": p, "to": s}
    return None
