"""A circuit breaker per dependency: stop calling a dependency that keeps failing, so
requests fail fast with 503 instead of each waiting out a timeout, and probe it now and
then until it answers again.

closed     calls pass; `failure_threshold` failures in a row open the circuit
open       calls fail at once with the dependency's unavailable error, carrying the
           seconds left before a probe as `retry_after`
half-open  after `reset_timeout` one call at a time passes as a probe: success closes
           the circuit, failure opens it again for another `reset_timeout`

Each admitted call holds a `Ticket` naming the period it was admitted in. A call that
outlives its period (admitted before the circuit opened, finishing after) changes
nothing: only the probe decides a half-open circuit, so a late failure cannot reopen it
behind the probe's back, nor a late success close it. One event loop drives a breaker;
it is not thread-safe.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import structlog

from application.errors import BusyError, ServiceUnavailableError

log = structlog.get_logger()


class BreakerState(Enum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


StateListener = Callable[[str, BreakerState], None]


@dataclass(frozen=True, slots=True)
class Ticket:
    period: int
    probe: bool


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        unavailable: Callable[[], ServiceUnavailableError],
        failure_threshold: int = 5,
        reset_timeout: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        on_state_change: StateListener | None = None,
    ) -> None:
        if failure_threshold < 1 or reset_timeout <= 0:
            raise ValueError("failure_threshold must be >= 1 and reset_timeout > 0")
        self.name = name
        self._unavailable = unavailable
        self._threshold = failure_threshold
        self._reset_timeout = reset_timeout
        self._monotonic = monotonic
        self._listeners: list[StateListener] = [on_state_change] if on_state_change else []
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self._period = 0

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._retry_in() <= 0:
            return BreakerState.HALF_OPEN
        return self._state

    def subscribe(self, listener: StateListener) -> None:
        self._listeners.append(listener)
        listener(self.name, self.state)

    def before_call(self) -> Ticket:
        """Raise the unavailable error while open; in half-open, let one probe through.
        Hand the ticket back to `record_success`, `record_failure` or `release`."""
        if self._state is BreakerState.CLOSED:
            return Ticket(self._period, probe=False)
        if self._state is BreakerState.OPEN:
            if self._retry_in() > 0:
                raise self._refusal()
            self._set(BreakerState.HALF_OPEN)
        if self._probing:
            raise self._refusal()
        self._probing = True
        return Ticket(self._period, probe=True)

    def record_success(self, ticket: Ticket) -> None:
        if ticket.period != self._period:
            return  # admitted before the circuit last opened: the probe decides
        if self._state is BreakerState.CLOSED:
            self._failures = 0
        elif ticket.probe:
            self._probing = False
            self._failures = 0
            self._set(BreakerState.CLOSED)

    def record_failure(self, ticket: Ticket) -> None:
        if ticket.period != self._period or self._state is BreakerState.OPEN:
            return  # a late failure must not postpone the probe
        if self._state is BreakerState.HALF_OPEN and not ticket.probe:
            return
        self._probing = False
        self._failures += 1
        if self._state is BreakerState.HALF_OPEN or self._failures >= self._threshold:
            self._opened_at = self._monotonic()
            self._failures = 0
            self._period += 1
            self._set(BreakerState.OPEN)

    def release(self, ticket: Ticket) -> None:
        """A call that ended without judging the dependency (cancelled, or refused for
        a reason of its own): a half-open probe slot is handed back."""
        if ticket.probe and ticket.period == self._period:
            self._probing = False

    def guard(self) -> "_Guard":
        """`async with breaker.guard(): ...`: an unavailable error inside counts as a
        failure, a clean exit as a success, anything else (a `BusyError` included: the
        service's own saturation) says nothing of the dependency."""
        return _Guard(self)

    def _retry_in(self) -> float:
        return self._opened_at + self._reset_timeout - self._monotonic()

    def _refusal(self) -> ServiceUnavailableError:
        error = self._unavailable()
        error.retry_after = max(1, math.ceil(self._retry_in()))
        return error

    def _set(self, state: BreakerState) -> None:
        self._state = state
        # One line per transition, not per refused call: an outage does not flood the log.
        level = log.warning if state is BreakerState.OPEN else log.info
        level("circuit_breaker_state_changed", dependency=self.name, state=state.name.lower())
        for listener in self._listeners:
            listener(self.name, state)


class _Guard:
    __slots__ = ("_breaker", "_ticket")

    def __init__(self, breaker: CircuitBreaker) -> None:
        self._breaker = breaker
        self._ticket: Ticket | None = None

    async def __aenter__(self) -> None:
        self._ticket = self._breaker.before_call()

    async def __aexit__(self, kind: type[BaseException] | None, error: object, _tb: object) -> None:
        ticket = self._ticket
        if ticket is None:
            return
        if kind is None:
            self._breaker.record_success(ticket)
        elif issubclass(kind, ServiceUnavailableError) and not issubclass(kind, BusyError):
            self._breaker.record_failure(ticket)
        else:
            self._breaker.release(ticket)
