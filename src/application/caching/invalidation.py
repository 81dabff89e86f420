"""Dropping cached users, roles and signing keys once the change that made them stale
has committed: a handler of the event pipeline (see `application.events.table`)."""

import contextlib
from collections.abc import Sequence
from typing import Any

from application.caching.user_cache import ROLES_KEY, SIGNING_KEYS_KEY, user_key
from application.errors import ServiceUnavailableError
from application.ports.cache import Cache
from application.ports.event_handler import Committed, EventHandler
from domain.access.events import RoleCreated, RoleDeleted, RoleUpdated
from domain.common.events import DomainEvent
from domain.tokens.events import SigningKeyRotated


class CacheInvalidation(EventHandler):
    """Given user, role and signing-key events: drops the user's entry, the role table
    (whose new generation retires every cached user: a rename or deletion rewrites
    users without naming them), or tells every instance to reload its key ring.

    A cache that cannot take the invalidation keeps it and retries (`TieredCache`), so a
    failure here is not raised: the change is durable either way.
    """

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    async def handle(self, events: Sequence[Committed]) -> None:
        keys = {stale_key(c.event) for c in events}
        with contextlib.suppress(ServiceUnavailableError):
            await self._cache.invalidate(keys)


def stale_key(event: DomainEvent) -> str:
    match event:
        case RoleCreated() | RoleUpdated() | RoleDeleted():
            return ROLES_KEY
        case SigningKeyRotated():
            return SIGNING_KEYS_KEY
    user_id: Any = getattr(event, "user_id")  # noqa: B009 - every other event given is a user's
    return user_key(user_id)
