"""The revocation store answered from process memory: every authenticated request asks
it, and a Redis round trip per request was a fifth of `/me` on Postgres + Redis.

Each instance mirrors the revoked session ids, learnt over Redis pub/sub:
- a revocation is written to Redis (the shared record, with its TTL), then announced;
  `revoke_sessions` returns once Redis has handed the announcement to every subscriber
  (`RedisInvalidationBus.publish`), so the next request anywhere finds it;
- on each (re)subscription the mirror is reloaded from Redis's keys, after the
  subscription is confirmed, so no revocation falls between the two;
- while the subscription is down, or before the first load, every question goes to
  Redis as before (and fails as before, `CacheUnavailableError`, when Redis is gone).
"""

import contextlib
import math
from uuid import UUID

from adapters.memory.revocation_store import InMemoryRevocationStore
from adapters.redis.invalidation_bus import RedisInvalidationBus
from adapters.redis.revocation_store import RedisRevocationStore
from adapters.system.clock import SystemClock
from application.errors import CacheUnavailableError
from application.ports.clock import Clock
from application.ports.revocation_store import RevocationStore


class MirroredRevocationStore(RevocationStore):
    def __init__(
        self,
        store: RedisRevocationStore,
        bus: RedisInvalidationBus,
        *,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock or SystemClock()
        self._memory = InMemoryRevocationStore(self._clock)
        self._live = False

    @property
    def live(self) -> bool:
        """Whether questions are answered from memory."""
        return self._live

    async def revoke_sessions(self, session_ids: list[UUID], *, ttl_seconds: int) -> None:
        await self._store.revoke_sessions(session_ids, ttl_seconds=ttl_seconds)
        if not session_ids:
            return
        self._memory.remember(session_ids, ttl_seconds=ttl_seconds)
        try:
            # Returns once every subscribed instance has been handed the news.
            await self._bus.publish([f"{s} {ttl_seconds}" for s in session_ids])
        except CacheUnavailableError:
            # Written to Redis but not announced: other mirrors may not know it, and
            # this instance's subscription is failing too: ask Redis until it is back.
            self._down()
            raise

    async def is_session_revoked(self, session_id: UUID) -> bool:
        if not self._live:
            return await self._store.is_session_revoked(session_id)
        return await self._memory.is_session_revoked(session_id)

    async def ping(self) -> None:
        await self._store.ping()

    async def listen(self) -> None:
        """Keep the mirror fed until cancelled."""
        await self._bus.listen(self._received, self._up, self._down)

    def _received(self, items: list[str]) -> None:
        for item in items:
            session, _, ttl = item.partition(" ")
            with contextlib.suppress(ValueError):  # another version's item: not ours
                self._memory.remember([UUID(session)], ttl_seconds=int(ttl))

    async def _up(self, _server_changed: bool) -> None:
        # Subscribed and confirmed: what was revoked before is in Redis's keys, what is
        # revoked from now on arrives on the feed.
        memory = InMemoryRevocationStore(self._clock)
        for session, seconds in (await self._store.revoked()).items():
            memory.remember([session], ttl_seconds=max(1, math.ceil(seconds)))
        self._memory = memory
        self._live = True

    def _down(self) -> None:
        self._live = False
        self._memory = InMemoryRevocationStore(self._clock)
