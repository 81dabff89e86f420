"""`retry_idempotent`: which errors are retried, how often, and how long it waits."""

import pytest

from adapters.resilience.retry import retry_idempotent


class Flaky:
    """Fails with `errors` in turn, then answers."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


class RecordedSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleep() -> RecordedSleep:
    return RecordedSleep()


async def test_a_first_answer_is_returned_without_waiting(sleep: RecordedSleep) -> None:
    operation = Flaky()
    assert await retry_idempotent(operation, transient=(ConnectionError,), sleep=sleep) == "answer"
    assert operation.calls == 1
    assert sleep.delays == []


async def test_transient_errors_are_retried_until_an_answer(sleep: RecordedSleep) -> None:
    operation = Flaky(ConnectionResetError(), ConnectionRefusedError())
    result = await retry_idempotent(operation, transient=(ConnectionError,), sleep=sleep)
    assert result == "answer"
    assert operation.calls == 3


async def test_the_last_error_propagates_after_the_last_attempt(sleep: RecordedSleep) -> None:
    last = ConnectionRefusedError("third")
    operation = Flaky(ConnectionResetError(), ConnectionResetError(), last, ConnectionError())
    with pytest.raises(ConnectionRefusedError) as raised:
        await retry_idempotent(operation, transient=(ConnectionError,), attempts=3, sleep=sleep)
    assert raised.value is last
    assert operation.calls == 3
    assert len(sleep.delays) == 2


async def test_other_errors_are_not_retried(sleep: RecordedSleep) -> None:
    operation = Flaky(TimeoutError(), ConnectionError())
    with pytest.raises(TimeoutError):
        await retry_idempotent(operation, transient=(ConnectionError,), sleep=sleep)
    assert operation.calls == 1
    assert sleep.delays == []


async def test_one_attempt_means_no_retry(sleep: RecordedSleep) -> None:
    operation = Flaky(ConnectionError())
    with pytest.raises(ConnectionError):
        await retry_idempotent(operation, transient=(ConnectionError,), attempts=1, sleep=sleep)
    assert operation.calls == 1


async def test_zero_attempts_is_refused() -> None:
    with pytest.raises(ValueError, match="attempts"):
        await retry_idempotent(Flaky(), transient=(ConnectionError,), attempts=0)


async def test_delays_are_jittered_below_an_exponential_capped_bound() -> None:
    bounds = [0.01, 0.02, 0.04, 0.05, 0.05]  # base 0.01 doubling, capped at 0.05
    seen: list[list[float]] = []
    for _ in range(50):
        sleep = RecordedSleep()
        errors = [ConnectionError() for _ in bounds]
        await retry_idempotent(
            Flaky(*errors),
            transient=(ConnectionError,),
            attempts=len(bounds) + 1,
            base_delay=0.01,
            max_delay=0.05,
            sleep=sleep,
        )
        assert all(0 <= d <= b for d, b in zip(sleep.delays, bounds, strict=True))
        seen.append(sleep.delays)
    # Full jitter: instances failing together do not all wait the same time.
    assert len({tuple(delays) for delays in seen}) > 1
