"""The handler table: which handler follows which committed events, and when.

Two moments follow a commit:
- committed: on the instance that committed, right after the commit, before the use
  case returns. What must not wait (a revoked session refused everywhere, a cached user
  dropped) and what this instance counts and logs. Best effort: a crash between the
  commit and these handlers loses them, which the relayed moment makes up for.
- relayed: from the outbox, at least once and once cluster-wide, in commit order, also
  for events committed just before a crash. What must not be lost.

A handler that follows both moments is run again by the relay only where the commit's
run did not happen: on another instance (this one's relay skips the events its own
committed moment handled, which could only be missing after a crash, and then this
memory is gone too). Measured on Postgres + Redis: the relay's second invalidation of a
logged-in user's cached entry doubled the database reads of `/me` while logins ran.
"""

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from application.ports.event_handler import Committed, EventHandler
from application.ports.event_publisher import EventPublisher
from domain.common.events import DomainEvent

ErrorListener = Callable[[str, BaseException], None]
"""Told (handler name, error) when a committed-moment handler fails. Must not raise."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    handler: EventHandler
    events: tuple[type[DomainEvent], ...] = ()
    """The event types handed to it; empty for every event."""
    committed: bool = False
    relayed: bool = False

    def wanted(self, events: Sequence[Committed]) -> list[Committed]:
        if not self.events:
            return list(events)
        return [c for c in events if isinstance(c.event, self.events)]


# How many (route, event) pairs handled at commit are remembered for the relay to skip;
# past it the oldest are forgotten, and the relay runs those again (harmless).
REMEMBERED = 10_000


class HandlerTable:
    def __init__(
        self, routes: Iterable[Route], *, on_error: ErrorListener, remembered: int = REMEMBERED
    ) -> None:
        routes = list(routes)
        self._committed = [r for r in routes if r.committed]
        self._relayed = [r for r in routes if r.relayed]
        self._on_error = on_error
        self._remembered = remembered
        # (id of the route, outbox id) handled at commit by a route the relay also runs.
        self._handled_here: dict[tuple[int, UUID], bool] = {}

    async def committed(self, events: Sequence[Committed]) -> None:
        """Every committed-moment handler in turn; a failing one is reported, never
        raised (the change is durable, and the next handler still runs)."""
        for route in self._committed:
            wanted = route.wanted(events)
            if not wanted:
                continue
            try:
                await route.handler.handle(wanted)
            except Exception as error:
                with contextlib.suppress(Exception):
                    self._on_error(type(route.handler).__name__, error)
            else:
                if route.relayed:
                    self._remember(route, wanted)

    async def relayed(self, events: Sequence[Committed]) -> None:
        """Every relayed-moment handler in turn, on the events its committed moment did
        not handle here; the first failure is raised, so the relay keeps the batch and
        hands it over again (handlers are idempotent)."""
        for route in self._relayed:
            wanted = route.wanted(events)
            if route.committed:
                wanted = [c for c in wanted if not self._handled_before(route, c)]
            if wanted:
                await route.handler.handle(wanted)

    def _handled_before(self, route: Route, event: Committed) -> bool:
        """Whether this instance's committed moment handled it (forgotten once asked)."""
        return self._handled_here.pop((id(route), event.row.id), False)

    def _remember(self, route: Route, events: Sequence[Committed]) -> None:
        for c in events:
            self._handled_here[(id(route), c.row.id)] = True
        while len(self._handled_here) > self._remembered:
            del self._handled_here[next(iter(self._handled_here))]


class Observing(EventHandler):
    """Hands the domain events to an `EventPublisher` (the log line, the counters)."""

    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    async def handle(self, events: Sequence[Committed]) -> None:
        await self._publisher.publish([c.event for c in events])
