"""Live delivery: relayed events from the bus to this instance's WebSocket and SSE
connections, resumable from the outbox, cut off when a connection's credentials die.

One hub per process listens on the event bus (Redis pub/sub between instances, in
process without Redis). The relay publishes in commit order, so each connection receives
the events of a resource in the order they committed.
"""

import asyncio
import collections
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from enum import Enum
from uuid import UUID

from application.common.security import Principal
from application.errors import AuthenticationError
from application.live.topics import OFFERED, may_follow, may_see
from application.ports.clock import Clock
from application.ports.event_bus import EventBus
from application.ports.event_outbox import OutboxEvent
from application.ports.unit_of_work_factory import TransactionFactory

Reauthenticate = Callable[[], Awaitable[Principal]]
"""The connection's credentials checked again: the principal as it stands now, or
`AuthenticationError` when they no longer hold (revoked, expired, owner deactivated)."""


class Ended(Enum):
    """Why the hub ended a connection, with the close code the contract gives it."""

    REVOKED = 4401
    SLOW = 4429


class ResumeExpiredError(Exception):
    """`after` names an event older than the retention window: what followed it may be
    pruned, so a replay could have a gap. The client must start afresh."""


class TooManyConnectionsError(Exception):
    """The account already holds as many live connections as it may."""


_RESUBSCRIBED_EVENTS = ("role.",)
# Events that may change what a principal may read: it is authenticated again before
# its next event. Per account: the account's roles or state changed.
_ACCOUNT_CHANGES = frozenset({"user.roles_assigned", "user.updated"})


class Subscription:
    """One live connection: its principal, its topics and a bounded queue.

    The queue never grows past `limit`: a consumer that falls that far behind is ended
    (`Ended.SLOW`), never buffered without bound. `__slots__` and a deque keep an idle
    connection to a few hundred bytes here.
    """

    __slots__ = (
        "_ended",
        "_pending",
        "_ready",
        "ended",
        "limit",
        "principal",
        "reauthenticate",
        "replayed",
        "stale",
        "topics",
    )

    def __init__(self, principal: Principal, reauthenticate: Reauthenticate, limit: int) -> None:
        self.principal = principal
        self.reauthenticate = reauthenticate
        self.limit = limit
        self.topics: set[str] = set()
        self.ended: Ended | None = None
        self.stale = False
        self.replayed: set[UUID] = set()
        self._pending: collections.deque[OutboxEvent] = collections.deque()
        self._ready = asyncio.Event()
        self._ended: asyncio.Event | None = None  # made on demand: most never end early

    def offer(self, event: OutboxEvent) -> None:
        if self.ended is not None:
            return
        if len(self._pending) >= self.limit:
            self.end(Ended.SLOW)
            return
        self._pending.append(event)
        self._ready.set()

    def end(self, why: Ended) -> None:
        if self.ended is None:
            self.ended = why
            self._pending.clear()
            self._ready.set()
            if self._ended is not None:
                self._ended.set()

    async def wait_ended(self) -> None:
        if self._ended is None:
            self._ended = asyncio.Event()
        if self.ended is None:
            await self._ended.wait()

    @property
    def backlog(self) -> int:
        return len(self._pending)

    async def next(self) -> OutboxEvent | None:
        """The next live event this connection may see; None once it has ended."""
        while True:
            while self._pending and self.ended is None:
                event = self._pending.popleft()
                if event.id in self.replayed:
                    continue  # already sent by the replay
                if await self._visible(event):
                    return event
            if self.ended is not None:
                return None
            self._ready.clear()
            await self._ready.wait()

    async def _visible(self, event: OutboxEvent) -> bool:
        if event.topic not in self.topics:
            return False
        if self.stale:
            self.stale = False
            try:
                self.principal = await self.reauthenticate()
            except AuthenticationError:
                self.end(Ended.REVOKED)
                return False
        return may_see(self.principal, event)

    @property
    def owner(self) -> UUID | str | None:
        p = self.principal
        return p.user.id if p.user is not None else p.client_id


class LiveHub:
    """Rules:
    - Each connection has a bounded queue (`queue_limit` events); one that falls that
      far behind is ended with `Ended.SLOW`; an account holds at most
      `per_account_limit` connections.
    - A topic is followed only with the permission that reads it, and every event is
      checked again, when it is sent, against the principal as it stands now: events
      that may change it (a role edited, the account's roles or state changed) make the
      connection authenticate again first.
    - A session revoked (logout, logout-all, password change, deactivation, deletion)
      or an API key revoked ends its connections with `Ended.REVOKED` as the event
      arrives, on every instance (the relay publishes it to all).
    - Resuming `after` an event replays from the outbox what followed it, then goes on
      live with no gap (the connection listens before the replay reads) and no duplicate
      (what the replay sent is skipped live). An id older than the retention window is
      refused (`ResumeExpiredError`): what followed it may have been pruned.
    - Events reach the hub at least once (the relay retries, the bus may repeat): the
      hub drops an id it has already dispatched. When the bus reconnects (Redis came
      back), the hub reads what it missed from the outbox.
    """

    def __init__(
        self,
        *,
        bus: EventBus,
        transactions: TransactionFactory,
        clock: Clock,
        retention: timedelta,
        queue_limit: int = 1000,
        per_account_limit: int = 20,
        replay_batch: int = 500,
        remembered: int = 10_000,
    ) -> None:
        self._bus = bus
        self._transactions = transactions
        self._clock = clock
        self._retention = retention
        self._queue_limit = queue_limit
        self._per_account_limit = per_account_limit
        self._replay_batch = replay_batch
        self._subscriptions: set[Subscription] = set()
        self._seen: collections.OrderedDict[UUID, None] = collections.OrderedDict()
        self._remembered = remembered
        self._last: UUID | None = None
        self._listening = False

    @property
    def per_account_limit(self) -> int:
        return self._per_account_limit

    @property
    def connections(self) -> int:
        return len(self._subscriptions)

    @property
    def backlogs(self) -> list[int]:
        """Events waiting in each connection's queue (each at most `queue_limit`)."""
        return [s.backlog for s in self._subscriptions]

    def open(self, principal: Principal, reauthenticate: Reauthenticate) -> Subscription:
        """A new connection for `principal`; `TooManyConnectionsError` past the limit."""
        subscription = Subscription(principal, reauthenticate, self._queue_limit)
        owner = subscription.owner
        held = sum(1 for s in self._subscriptions if s.owner == owner)
        if held >= self._per_account_limit:
            raise TooManyConnectionsError()
        self._subscriptions.add(subscription)
        return subscription

    def close(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def subscribe(
        self, subscription: Subscription, topics: list[str]
    ) -> tuple[list[str], list[str]]:
        """(granted, refused) topics; the granted ones are followed from now on."""
        granted = [t for t in topics if t in OFFERED and may_follow(subscription.principal, t)]
        refused = [t for t in topics if t not in granted]
        subscription.topics.update(granted)
        return granted, refused

    async def replay(self, subscription: Subscription, after: UUID) -> AsyncIterator[OutboxEvent]:
        """What followed `after` in the outbox, for the connection's topics, oldest first.

        Call it once the connection is subscribed (so live events are already queued
        behind it); what it yields is skipped when it arrives live."""
        if self._too_old(after):
            raise ResumeExpiredError()
        # Only events relayed lately (or not yet) can still arrive live: the skip list
        # holds those, not the whole replay (margin: clocks of other instances).
        recent = self._clock.now() - timedelta(seconds=30)
        cursor: UUID | None = after
        while cursor is not None:
            async with self._transactions() as tx:
                page = await tx.events.after(cursor, limit=self._replay_batch)
            cursor = page[-1].id if len(page) == self._replay_batch else None
            for event in page:
                if event.relayed_at is None or event.relayed_at >= recent:
                    subscription.replayed.add(event.id)
                if event.topic in subscription.topics and may_see(subscription.principal, event):
                    yield event

    def _too_old(self, after: UUID) -> bool:
        # A UUIDv7 starts with its millisecond timestamp (RFC 9562 §5.7); any other id
        # cannot be placed in time, so it cannot be resumed from either.
        if after.version != 7:
            return True
        issued_ms = after.int >> 80
        oldest_kept = self._clock.now() - self._retention
        return issued_ms < oldest_kept.timestamp() * 1000

    async def run(self) -> None:
        """Listen on the bus until cancelled."""
        await self._bus.listen(self.dispatch, on_subscribed=self._catch_up)

    async def dispatch(self, event: OutboxEvent) -> None:
        if event.id in self._seen:
            return
        self._seen[event.id] = None
        if len(self._seen) > self._remembered:
            self._seen.popitem(last=False)
        if self._last is None or event.id > self._last:
            self._last = event.id
        self._judge(event)
        for subscription in list(self._subscriptions):
            if event.topic in subscription.topics:
                subscription.offer(event)

    def _judge(self, event: OutboxEvent) -> None:
        """End or re-check the connections an event says something about."""
        facts = event.facts
        ended_sessions: set[str] = set()
        ended_accounts: set[str] = set()
        changed_accounts: set[str] = set()
        ended_keys: set[str] = set()
        everyone = event.name.startswith(_RESUBSCRIBED_EVENTS)
        match event.name:
            case "session.revoked":
                ended_sessions.add(str(facts.get("session_id")))
            case "user.deleted":
                ended_accounts.add(str(facts.get("user_id")))
                ended_sessions.update(str(s) for s in facts.get("session_ids") or ())
            case "user.deactivated":
                ended_accounts.add(str(facts.get("user_id")))
            case "api_key.revoked":
                ended_keys.add(str(facts.get("key_id")))
            case name if name in _ACCOUNT_CHANGES:
                changed_accounts.add(str(facts.get("user_id")))
        if not (ended_sessions or ended_accounts or ended_keys or changed_accounts or everyone):
            return
        for subscription in self._subscriptions:
            p = subscription.principal
            user = str(p.user.id) if p.user is not None else None
            if (
                str(p.session_id) in ended_sessions
                or user in ended_accounts
                or str(p.api_key_id) in ended_keys
            ):
                subscription.end(Ended.REVOKED)
            elif everyone or user in changed_accounts:
                subscription.stale = True

    async def _catch_up(self) -> None:
        """After the bus (re)connects: what was relayed while it was away, from the outbox."""
        if self._last is None:
            return
        cursor: UUID | None = self._last
        while cursor is not None:
            async with self._transactions() as tx:
                page = await tx.events.after(cursor, limit=self._replay_batch)
            for event in page:
                await self.dispatch(event)
            cursor = page[-1].id if len(page) == self._replay_batch else None
