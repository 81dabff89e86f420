"""A bounded thread pool for CPU-heavy work that must stay off the event loop.

Bounded twice: at most `max_workers` jobs run (and `queued_ahead` more wait inside the
pool), and at most `max_waiting` callers wait for a slot, each for at most
`queue_timeout` seconds. Past either bound `run` raises
`ExecutorBusyError` at once, so a burst costs a fast refusal instead of unbounded memory
and latency (the caller maps it to a "busy, retry later" error).
"""

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class ExecutorBusyError(Exception):
    """Every worker is busy and the wait was refused or timed out."""


class BoundedExecutor:
    """Runs blocking callables in its own thread pool, behind an `asyncio.Semaphore`.

    Only worthwhile for work that releases the GIL (argon2-cffi, hashlib on large input,
    zlib); pure-Python work would still contend for the interpreter.
    """

    def __init__(
        self,
        *,
        max_workers: int,
        max_waiting: int,
        queue_timeout: float,
        thread_name_prefix: str = "bounded",
        nice: int = 0,
        queued_ahead: int = 0,
    ) -> None:
        """`nice`: the workers' scheduling niceness (Linux, per thread; ignored
        elsewhere). Above 0 they yield the core to the event loop whenever both want it,
        and take all of it when the loop is idle.

        `queued_ahead`: jobs handed to the pool beyond its threads, so that a worker
        that finishes takes the next one at once. Otherwise the next job is handed over
        by the event loop, after it has run the finished one's callbacks: under load
        that is a few turns of the loop, each milliseconds long, for every job."""
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        if max_waiting < 0:
            raise ValueError("max_waiting must not be negative")
        if queue_timeout <= 0:
            raise ValueError("queue_timeout must be positive")
        if queued_ahead < 0:
            raise ValueError("queued_ahead must not be negative")
        self._pool = ThreadPoolExecutor(
            max_workers=max_workers,
            thread_name_prefix=thread_name_prefix,
            initializer=functools.partial(_renice, nice) if nice else None,
        )
        self._slots = asyncio.Semaphore(max_workers + queued_ahead)
        self._max_waiting = max_waiting
        self._queue_timeout = queue_timeout
        self._waiting = 0
        self._closed = False

    @property
    def waiting(self) -> int:
        """Callers queued for a slot right now."""
        return self._waiting

    async def run(self, fn: Callable[..., T], /, *args: object) -> T:
        """Run `fn(*args)` in a worker thread and return its result.

        Raises `ExecutorBusyError` when the queue is full or the wait exceeds
        `queue_timeout`; `RuntimeError` after `shutdown()`.
        """
        if self._closed:
            raise RuntimeError("executor is shut down")
        if self._slots.locked() and self._waiting >= self._max_waiting:
            raise ExecutorBusyError("all workers busy and the queue is full")
        self._waiting += 1
        try:
            async with asyncio.timeout(self._queue_timeout):
                await self._slots.acquire()
        except TimeoutError as error:
            raise ExecutorBusyError("timed out waiting for a worker") from error
        finally:
            self._waiting -= 1

        try:
            future = asyncio.get_running_loop().run_in_executor(
                self._pool, functools.partial(fn, *args)
            )
        except BaseException:
            self._slots.release()
            raise
        # The slot is freed when the thread finishes, not when the caller stops waiting:
        # a cancelled caller must not let more jobs pile into the pool than it has slots.
        future.add_done_callback(lambda _: self._slots.release())
        # shield: cancelling the caller must not cancel the future (the thread cannot be
        # stopped anyway) or its done-callback would release the slot too early.
        return await asyncio.shield(future)

    def shutdown(self, *, wait: bool = True) -> None:
        """Refuse new work, drop queued jobs and (by default) wait for running ones."""
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)


def _renice(nice: int) -> None:
    # On Linux a thread is a task with its own niceness: this lowers only this worker.
    if hasattr(os, "setpriority"):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
