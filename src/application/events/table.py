"""What follows a commit, in one place: which handler takes which events, and when
(see `application.events.handlers` for the two moments)."""

from collections.abc import Sequence

from application.events.handlers import ErrorListener, HandlerTable, Route
from application.ports.event_handler import EventHandler
from domain.access.events import ApiKeyRevoked, RoleCreated, RoleDeleted, RoleUpdated
from domain.identity.events import (
    AccountLocked,
    AccountUnlocked,
    EmailVerified,
    PasswordChanged,
    PasswordReset,
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
    DeploymentStatusChanged,
    EnvironmentCreated,
    ReleaseNotesChanged,
    ReleaseStatusChanged,
)
from domain.tokens.events import SigningKeyRotated

STALE_CACHE = (
    # A user as `GET /auth/me` shows it changed (a login moves `last_login_at`).
    UserRegistered,
    UserCreated,
    UserLoggedIn,
    UserUpdated,
    UserDeactivated,
    UserDeleted,
    RolesAssigned,
    EmailVerified,
    PasswordChanged,
    PasswordReset,
    AccountLocked,
    AccountUnlocked,
    # A session's state as authenticated requests read it (revoked, or its expiry moved).
    SessionRevoked,
    SessionRefreshed,
    # An API key as authenticated requests read it.
    ApiKeyRevoked,
    # What roles grant changed.
    RoleCreated,
    RoleUpdated,
    RoleDeleted,
    # Every instance reloads its key ring.
    SigningKeyRotated,
)
ENDED_SESSIONS = (SessionRevoked, UserDeleted)
# The releases context: a cached release or the environment list went stale (a
# deployment's success moves its environment's `current_*`).
STALE_RELEASE_CACHE = (
    ReleaseStatusChanged,
    ReleaseNotesChanged,
    EnvironmentCreated,
    DeploymentStatusChanged,
)
FINISHED_DEPLOYMENTS = (DeploymentStatusChanged,)


def handler_table(
    *,
    cache_invalidation: EventHandler,
    session_revoker: EventHandler,
    observers: Sequence[EventHandler],
    fan_out: EventHandler,
    relay_observers: Sequence[EventHandler] = (),
    release_cache_invalidation: EventHandler | None = None,
    deployment_observers: Sequence[EventHandler] = (),
    deliveries: Sequence[EventHandler] = (),
    on_error: ErrorListener,
) -> HandlerTable:
    releases = [
        *(
            [
                Route(
                    handler=release_cache_invalidation,
                    events=STALE_RELEASE_CACHE,
                    committed=True,
                    relayed=True,
                )
            ]
            if release_cache_invalidation is not None
            else []
        ),
        # Deployment counts and durations, once, where the change committed.
        *(
            Route(handler=o, events=FINISHED_DEPLOYMENTS, committed=True)
            for o in deployment_observers
        ),
    ]
    return HandlerTable(
        [
            # At once here, and again from the relay (which also covers a crash between
            # the commit and this instance's handlers): both are idempotent.
            Route(handler=cache_invalidation, events=STALE_CACHE, committed=True, relayed=True),
            Route(handler=session_revoker, events=ENDED_SESSIONS, committed=True, relayed=True),
            *releases,
            # This instance's log lines and business counters.
            *(Route(handler=observer, committed=True) for observer in observers),
            # Every instance's listeners, and the relay's own counters.
            Route(handler=fan_out, relayed=True),
            # Durable deliveries (webhooks): queued once, from the outbox.
            *(Route(handler=delivery, relayed=True) for delivery in deliveries),
            *(Route(handler=observer, relayed=True) for observer in relay_observers),
        ],
        on_error=on_error,
    )
