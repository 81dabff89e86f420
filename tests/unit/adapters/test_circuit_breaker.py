"""The circuit breaker on a fake clock: when it opens, what a refusal says, how a single
probe closes or reopens it, and what its listeners hear."""

import asyncio

import pytest

from adapters.resilience.circuit_breaker import BreakerState, CircuitBreaker
from application.errors import (
    CacheUnavailableError,
    InvalidTokenError,
    ServiceUnavailableError,
    StorageBusyError,
    StorageUnavailableError,
)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
def heard() -> list[tuple[str, BreakerState]]:
    return []


@pytest.fixture
def breaker(clock: FakeMonotonic, heard: list[tuple[str, BreakerState]]) -> CircuitBreaker:
    return CircuitBreaker(
        "database",
        unavailable=StorageUnavailableError,
        failure_threshold=3,
        reset_timeout=5.0,
        monotonic=clock,
        on_state_change=lambda name, state: heard.append((name, state)),
    )


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.record_failure(breaker.before_call())


def test_a_closed_breaker_lets_calls_through_until_failures_run_together(
    breaker: CircuitBreaker,
) -> None:
    fail(breaker, 2)
    breaker.record_success(breaker.before_call())  # a success in between starts again
    fail(breaker, 2)
    assert breaker.state is BreakerState.CLOSED

    fail(breaker, 1)
    assert breaker.state is BreakerState.OPEN


def test_an_open_breaker_refuses_at_once_with_the_seconds_until_the_probe(
    breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    fail(breaker, 3)
    with pytest.raises(StorageUnavailableError) as refused:
        breaker.before_call()
    assert refused.value.retry_after == 5

    clock.advance(2.5)
    with pytest.raises(StorageUnavailableError) as refused:
        breaker.before_call()
    assert refused.value.retry_after == 3  # 2.5 s left, rounded up

    clock.advance(2.4)
    with pytest.raises(StorageUnavailableError) as refused:
        breaker.before_call()
    assert refused.value.retry_after == 1  # never 0: "retry now" would be a lie


def test_each_refusal_is_a_fresh_error_of_the_dependencys_kind(clock: FakeMonotonic) -> None:
    breaker = CircuitBreaker(
        "redis", unavailable=CacheUnavailableError, failure_threshold=1, monotonic=clock
    )
    fail(breaker, 1)
    errors = []
    for _ in range(2):
        with pytest.raises(CacheUnavailableError) as refused:
            breaker.before_call()
        errors.append(refused.value)
    assert errors[0] is not errors[1]
    assert errors[0].code == "service_unavailable"


def test_after_the_reset_timeout_one_probe_passes_and_its_success_closes(
    breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    fail(breaker, 3)
    clock.advance(5)
    assert breaker.state is BreakerState.HALF_OPEN

    probe = breaker.before_call()
    with pytest.raises(StorageUnavailableError):
        breaker.before_call()  # a second caller while the probe runs
    breaker.record_success(probe)

    assert breaker.state is BreakerState.CLOSED
    breaker.before_call()
    breaker.before_call()


def test_a_failed_probe_opens_the_circuit_for_another_full_period(
    breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    fail(breaker, 3)
    clock.advance(6)
    breaker.record_failure(breaker.before_call())  # one failure is enough in half-open

    assert breaker.state is BreakerState.OPEN
    with pytest.raises(StorageUnavailableError) as refused:
        breaker.before_call()
    assert refused.value.retry_after == 5
    clock.advance(5)
    assert breaker.state is BreakerState.HALF_OPEN


def test_a_released_probe_hands_its_slot_to_the_next_caller(
    breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    fail(breaker, 3)
    clock.advance(5)
    breaker.release(breaker.before_call())  # the probe was cancelled: nothing learnt
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.record_success(breaker.before_call())  # not refused
    assert breaker.state is BreakerState.CLOSED


def test_late_outcomes_of_calls_admitted_before_opening_change_nothing(
    breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    # Five calls in flight when the database goes away; three failures open the circuit.
    tickets = [breaker.before_call() for _ in range(5)]
    for ticket in tickets[:3]:
        breaker.record_failure(ticket)
    clock.advance(4)
    breaker.record_failure(tickets[3])  # must not push the probe back
    breaker.record_success(tickets[4])  # nor close the circuit before a probe says so
    assert breaker.state is BreakerState.OPEN
    clock.advance(1)
    assert breaker.state is BreakerState.HALF_OPEN


def test_only_the_probe_decides_a_half_open_circuit(
    breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    slow = breaker.before_call()  # a statement that will time out long after
    fail(breaker, 3)
    clock.advance(5)
    probe = breaker.before_call()
    breaker.record_failure(slow)  # finishes while the probe runs: says nothing
    assert breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(StorageUnavailableError):
        breaker.before_call()  # the probe's slot is still taken
    breaker.record_success(probe)
    assert breaker.state is BreakerState.CLOSED


def test_listeners_hear_every_transition_and_subscribers_the_current_state(
    breaker: CircuitBreaker, clock: FakeMonotonic, heard: list[tuple[str, BreakerState]]
) -> None:
    fail(breaker, 3)
    clock.advance(5)
    breaker.record_success(breaker.before_call())
    assert heard == [
        ("database", BreakerState.OPEN),
        ("database", BreakerState.HALF_OPEN),
        ("database", BreakerState.CLOSED),
    ]

    fail(breaker, 3)
    late: list[tuple[str, BreakerState]] = []
    breaker.subscribe(lambda name, state: late.append((name, state)))
    assert late == [("database", BreakerState.OPEN)]


async def test_the_guard_counts_unavailability_as_failure_and_a_clean_exit_as_success(
    breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    for _ in range(3):
        with pytest.raises(StorageUnavailableError):
            async with breaker.guard():
                raise StorageUnavailableError()
    assert breaker.state is BreakerState.OPEN

    with pytest.raises(StorageUnavailableError):
        async with breaker.guard():
            pytest.fail("an open circuit must not run the block")

    clock.advance(5)
    async with breaker.guard():
        pass
    assert breaker.state is BreakerState.CLOSED


async def test_the_guard_says_nothing_of_errors_that_are_not_about_the_dependency(
    breaker: CircuitBreaker, clock: FakeMonotonic
) -> None:
    fail(breaker, 3)
    clock.advance(5)
    with pytest.raises(InvalidTokenError):
        async with breaker.guard():
            raise InvalidTokenError()
    assert breaker.state is BreakerState.HALF_OPEN

    probe = asyncio.create_task(_hang_in(breaker))
    await asyncio.sleep(0)
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    # Both probes gave their slot back, so another caller may probe now.
    async with breaker.guard():
        pass
    assert breaker.state is BreakerState.CLOSED


async def test_the_guard_never_counts_the_service_being_busy(breaker: CircuitBreaker) -> None:
    # A full pool or queue is load on this service, not a failing dependency.
    for _ in range(10):
        with pytest.raises(StorageBusyError):
            async with breaker.guard():
                raise StorageBusyError()
    assert breaker.state is BreakerState.CLOSED


async def _hang_in(breaker: CircuitBreaker) -> None:
    async with breaker.guard():
        await asyncio.Event().wait()


@pytest.mark.parametrize(("threshold", "reset"), [(0, 5.0), (3, 0.0), (3, -1.0)])
def test_a_breaker_that_could_never_close_or_open_is_refused(threshold: int, reset: float) -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(
            "x",
            unavailable=ServiceUnavailableError,
            failure_threshold=threshold,
            reset_timeout=reset,
        )
