"""BoundedExecutor: bounded work, bounded queue, fail fast, and honest slot accounting."""

import asyncio
import os
import threading
import time
from collections.abc import Iterator

import pytest

from adapters.concurrency import BoundedExecutor, ExecutorBusyError


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # never leave a worker blocked


def wait_for(gate: threading.Event) -> str:
    # The timeout only guards against a hung test run.
    assert gate.wait(timeout=10)
    return "done"


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_result_comes_back_from_a_worker_thread() -> None:
    executor = BoundedExecutor(max_workers=1, max_waiting=0, queue_timeout=1)
    try:
        name = await executor.run(lambda: threading.current_thread().name)
        assert name != threading.current_thread().name
        assert await executor.run(pow, 2, 10) == 1024
    finally:
        executor.shutdown()


async def test_exceptions_propagate_to_the_caller() -> None:
    executor = BoundedExecutor(max_workers=1, max_waiting=0, queue_timeout=1)
    try:
        with pytest.raises(ZeroDivisionError):
            await executor.run(lambda: 1 / 0)
        assert await executor.run(int, "7") == 7  # the slot was given back
    finally:
        executor.shutdown()


async def test_a_full_queue_is_refused_at_once(gate: threading.Event) -> None:
    executor = BoundedExecutor(max_workers=1, max_waiting=1, queue_timeout=10)
    running = asyncio.create_task(executor.run(wait_for, gate))
    queued = asyncio.create_task(executor.run(wait_for, gate))
    await settle()
    assert executor.waiting == 1

    started = time.monotonic()
    with pytest.raises(ExecutorBusyError):
        await executor.run(wait_for, gate)
    assert time.monotonic() - started < 0.5

    gate.set()
    assert await running == "done"
    assert await queued == "done"
    executor.shutdown()


async def test_a_wait_longer_than_the_queue_timeout_is_refused(gate: threading.Event) -> None:
    executor = BoundedExecutor(max_workers=1, max_waiting=5, queue_timeout=0.05)
    running = asyncio.create_task(executor.run(wait_for, gate))
    await settle()

    started = time.monotonic()
    with pytest.raises(ExecutorBusyError):
        await executor.run(wait_for, gate)
    assert 0.04 <= time.monotonic() - started < 1
    assert executor.waiting == 0

    gate.set()
    await running
    executor.shutdown()


async def test_a_cancelled_caller_keeps_its_slot_until_the_thread_finishes(
    gate: threading.Event,
) -> None:
    executor = BoundedExecutor(max_workers=1, max_waiting=0, queue_timeout=1)
    caller = asyncio.create_task(executor.run(wait_for, gate))
    await settle()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller

    # The thread is still busy: letting another job in would exceed max_workers.
    with pytest.raises(ExecutorBusyError):
        await executor.run(int, "1")

    gate.set()
    for _ in range(100):  # the worker returns, then its completion reaches the loop
        await asyncio.sleep(0.01)
        try:
            assert await executor.run(int, "1") == 1
            break
        except ExecutorBusyError:
            continue
    else:
        pytest.fail("the slot was never released")
    executor.shutdown()


async def test_after_shutdown_no_new_work_is_accepted() -> None:
    executor = BoundedExecutor(max_workers=1, max_waiting=0, queue_timeout=1)
    executor.shutdown()
    with pytest.raises(RuntimeError):
        await executor.run(int, "1")


async def test_a_job_queued_ahead_starts_while_the_event_loop_is_busy(
    gate: threading.Event,
) -> None:
    """The next job is already in the pool: a worker that finishes starts it without
    waiting for the event loop to hand it over."""
    executor = BoundedExecutor(max_workers=1, max_waiting=1, queue_timeout=10, queued_ahead=1)
    second_started = threading.Event()
    first = asyncio.create_task(executor.run(wait_for, gate))
    second = asyncio.create_task(executor.run(second_started.set))
    await settle()

    gate.set()
    # The loop is held here, synchronously: only the pool itself can start the second.
    assert second_started.wait(timeout=5)
    assert await first == "done"
    await second
    executor.shutdown()


async def test_jobs_queued_ahead_are_bounded_too(gate: threading.Event) -> None:
    executor = BoundedExecutor(max_workers=1, max_waiting=0, queue_timeout=1, queued_ahead=1)
    running = asyncio.create_task(executor.run(wait_for, gate))
    queued = asyncio.create_task(executor.run(wait_for, gate))
    await settle()

    with pytest.raises(ExecutorBusyError):  # one running, one queued ahead: full
        await executor.run(wait_for, gate)

    gate.set()
    assert [await running, await queued] == ["done", "done"]
    executor.shutdown()


@pytest.mark.parametrize(
    ("workers", "waiting", "timeout", "ahead"),
    [(0, 1, 1.0, 0), (1, -1, 1.0, 0), (1, 1, 0.0, 0), (1, 1, 1.0, -1)],
)
def test_nonsense_bounds_are_refused(
    workers: int, waiting: int, timeout: float, ahead: int
) -> None:
    with pytest.raises(ValueError, match="must"):
        BoundedExecutor(
            max_workers=workers, max_waiting=waiting, queue_timeout=timeout, queued_ahead=ahead
        )


@pytest.mark.skipif(not hasattr(os, "setpriority"), reason="per-thread niceness is Linux's")
async def test_workers_can_yield_the_core_to_the_event_loop() -> None:
    """With `nice`, only the worker threads are lowered: the loop's thread keeps its own."""
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    executor = BoundedExecutor(max_workers=1, max_waiting=1, queue_timeout=1, nice=5)
    try:
        worker = await executor.run(
            lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        )
    finally:
        executor.shutdown()
    assert worker == min(19, own + 5)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own
