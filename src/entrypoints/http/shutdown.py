"""Graceful shutdown: drain before uvicorn stops accepting connections.

On SIGTERM or SIGINT the process turns not-ready at once (`/health/ready` answers 503)
but keeps serving for `SHUTDOWN_DRAIN_SECONDS`, so a load balancer polling readiness
stops sending traffic before the socket closes. Then the signal goes on to uvicorn,
whose own graceful shutdown stops accepting, lets in-flight requests finish (up to
`SHUTDOWN_TIMEOUT_SECONDS`) and only then runs the lifespan shutdown that stops
background tasks and closes the pools.

Why wrap the handler uvicorn installed rather than subclass `uvicorn.Server`: with
`--workers N` each worker is a plain `uvicorn.Server` built by uvicorn's supervisor,
which no subclass reaches. Every server, single or worker, installs its signal
handlers before the lifespan starts, so the lifespan is the one place that sees them
in both cases.
"""

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType

import structlog
from uvicorn.server import HANDLED_SIGNALS
from uvicorn.server import Server as UvicornServer

log = structlog.get_logger()

SignalHandler = Callable[[int, FrameType | None], object]


class GracefulShutdown:
    """The process's shutdown state: `draining` turns true on the first signal."""

    def __init__(self, drain_seconds: float) -> None:
        self.drain_seconds = drain_seconds
        self.draining = False
        self._uvicorn_handlers: dict[int, SignalHandler] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handed_over = False

    def install(self) -> bool:
        """Put the drain in front of uvicorn's signal handlers. Call from the lifespan,
        once started. Does nothing (returns False) unless uvicorn owns the signals in
        this thread: tests driving the app in process keep their own handlers."""
        if threading.current_thread() is not threading.main_thread():
            return False
        self._loop = asyncio.get_running_loop()
        for sig in HANDLED_SIGNALS:
            handler = signal.getsignal(sig)
            if callable(handler) and isinstance(getattr(handler, "__self__", None), UvicornServer):
                self._uvicorn_handlers[sig] = handler
                signal.signal(sig, self._on_signal)
        return bool(self._uvicorn_handlers)

    def uninstall(self) -> None:
        """Give uvicorn its handlers back (it restores the process's own on exit)."""
        for sig, handler in self._uvicorn_handlers.items():
            if signal.getsignal(sig) == self._on_signal:
                signal.signal(sig, handler)
        self._uvicorn_handlers.clear()

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        # Runs between two bytecodes of whatever the loop was doing: set a flag and
        # hand the rest to the loop (call_soon_threadsafe is safe from a signal handler).
        if self._handed_over or (self.draining and sig == signal.SIGINT):
            # Past the drain, uvicorn decides (a second Ctrl+C forces its exit); during
            # it, a second Ctrl+C means "stop now".
            self._hand_over(sig)
            return
        if self.draining:
            return  # a repeated SIGTERM (a supervisor passing one on) changes nothing
        self.draining = True
        assert self._loop is not None  # installed only with a running loop
        self._loop.call_soon_threadsafe(self._start_drain, sig)

    def _start_drain(self, sig: int) -> None:
        log.info(
            "shutdown_draining", signal=signal.Signals(sig).name, drain_seconds=self.drain_seconds
        )
        assert self._loop is not None
        self._loop.call_later(self.drain_seconds, self._end_drain, sig)

    def _end_drain(self, sig: int) -> None:
        if not self._handed_over:
            log.info("shutdown_drained")
            self._hand_over(sig)

    def _hand_over(self, sig: int) -> None:
        self._handed_over = True
        self._uvicorn_handlers[sig](sig, None)
