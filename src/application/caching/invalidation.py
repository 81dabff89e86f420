"""Dropping cached users, roles and signing keys once the change that made them stale
has committed: a handler of the event pipeline (see `application.events.table`)."""

import contextlib
from collections import Counter
from collections.abc import Sequence
from functools import partial
from typing import Any
from uuid import UUID

from application.caching.entries import after_login
from application.caching.user_cache import (
    ROLES_KEY,
    SIGNING_KEYS_KEY,
    api_key_key,
    session_key,
    user_key,
)
from application.errors import ServiceUnavailableError
from application.ports.cache import Cache
from application.ports.event_handler import Committed, EventHandler
from domain.access.events import ApiKeyRevoked, RoleCreated, RoleDeleted, RoleUpdated
from domain.common.events import DomainEvent
from domain.identity.events import SessionRefreshed, SessionRevoked, UserDeleted, UserLoggedIn
from domain.tokens.events import SigningKeyRotated


class CacheInvalidation(EventHandler):
    """Given user, session, API key, role and signing-key events: drops the user's, the
    session's or the revoked key's entry (a deleted user's sessions too), the role table
    (whose new generation retires every cached user: a rename or deletion rewrites
    users without naming them), or tells every instance to reload its key ring.

    A cache that cannot take the invalidation keeps it and retries (`TieredCache`), so a
    failure here is not raised: the change is durable either way.
    """

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    async def handle(self, events: Sequence[Committed]) -> None:
        named = Counter(key for c in events for key in stale_keys(c.event))
        # A login changes only what its event tells (the time, the cleared lockout):
        # this instance amends its copy instead of reloading it, so the requests of a
        # user who just signed in somewhere else are not all misses. Any other change
        # to the same user in the batch drops it as usual.
        logins = {
            key: e
            for c in events
            if isinstance(e := c.event, UserLoggedIn) and named[key := user_key(e.user_id)] == 1
        }
        with contextlib.suppress(ServiceUnavailableError):
            await self._cache.invalidate(named.keys() - logins.keys())  # what guards access
        if logins:
            with contextlib.suppress(ServiceUnavailableError):
                await self._cache.amend(
                    {key: partial(after_login, login=login) for key, login in logins.items()}
                )


def stale_keys(event: DomainEvent) -> list[str]:
    match event:
        case RoleCreated() | RoleUpdated() | RoleDeleted():
            return [ROLES_KEY]
        case SigningKeyRotated():
            return [SIGNING_KEYS_KEY]
        case SessionRevoked(session_id=session_id) | SessionRefreshed(session_id=session_id):
            return [session_key(session_id)]
        case ApiKeyRevoked(prefix=prefix):
            # Recorded before keys were cached (no prefix): nothing cached to drop.
            return [api_key_key(prefix)] if prefix else []
        case UserDeleted(user_id=deleted, session_ids=session_ids):
            return [user_key(deleted), *(session_key(UUID(s)) for s in session_ids)]
    user_id: Any = getattr(event, "user_id")  # noqa: B009 - every other event given is a user's
    return [user_key(user_id)]
