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
import time
from collections.abc import Callable
from uuid import UUID

from adapters.redis.invalidation_bus import RedisInvalidationBus
from adapters.redis.revocation_store import RedisRevocationStore
from application.errors import CacheUnavailableError
from application.ports.revocation_store import RevocationStore


class MirroredRevocationStore(RevocationStore):
    def __init__(
        self,
        store: RedisRevocationStore,
        bus: RedisInvalidationBus,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._bus = bus
        self._clock = clock
        self._expiries: dict[UUID, float] = {}
        self._live = False
        self._purge_above = 1024

    @property
    def live(self) -> bool:
        """Whether questions are answered from memory."""
        return self._live

    async def revoke_sessions(self, session_ids: list[UUID], *, ttl_seconds: int) -> None:
        await self._store.revoke_sessions(session_ids, ttl_seconds=ttl_seconds)
        if not session_ids:
            return
        self._remember(session_ids, ttl_seconds)
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
        expires_at = self._expiries.get(session_id)
        if expires_at is None:
            return False
        if expires_at <= self._clock():
            del self._expiries[session_id]
            return False
        return True

    async def ping(self) -> None:
        await self._store.ping()

    async def listen(self) -> None:
        """Keep the mirror fed until cancelled."""
        await self._bus.listen(self._received, self._up, self._down)

    def _received(self, items: list[str]) -> None:
        announced: dict[int, list[UUID]] = {}
        for item in items:
            session, _, ttl = item.partition(" ")
            with contextlib.suppress(ValueError):
                announced.setdefault(int(ttl), []).append(UUID(session))
        for seconds, sessions in announced.items():
            self._remember(sessions, seconds)

    async def _up(self, _server_changed: bool) -> None:
        # Subscribed and confirmed: what was revoked before is in Redis's keys, what is
        # revoked from now on arrives on the feed.
        self._expiries = {
            session: self._clock() + ttl for session, ttl in (await self._store.revoked()).items()
        }
        self._live = True

    def _down(self) -> None:
        self._live = False
        self._expiries = {}

    def _remember(self, session_ids: list[UUID], ttl_seconds: float) -> None:
        now = self._clock()
        if len(self._expiries) > self._purge_above:  # amortised: memory tracks live entries
            self._expiries = {s: at for s, at in self._expiries.items() if at > now}
            self._purge_above = max(1024, 2 * len(self._expiries))
        for session_id in session_ids:
            self._expiries[session_id] = now + ttl_seconds
