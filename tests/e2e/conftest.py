"""Start the real `hexahub` server as a separate process and talk to it over HTTP."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest


class Server:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {**env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """The server's environment, for running `hexahub` commands against its data."""
        return dict(self._env)

    def start(self) -> "Server":
        self._run_cli("migrate")
        log = self._log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"],
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def kill(self) -> None:
        """SIGKILL: no shutdown at all, as a crash or an OOM kill ends it."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None

    @property
    def pid(self) -> int | None:
        """The running process's id: a test can tell the server was never restarted."""
        return self._process.pid if self._process and self._process.poll() is None else None

    def log(self, tail: int = 4000) -> str:
        return self._log_path.read_text(errors="replace")[-tail:]

    def _run_cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", *args],
            env=self._env,
            check=True,
            capture_output=True,
            timeout=60,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(directory: Path) -> Iterator["ServerFactory"]:
    """Start servers whose data and logs live under `directory`; all stop on exit."""
    started: list[Server] = []
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "JWT_"))
    }
    base.update(
        {
            "ENVIRONMENT": "development",
            "LOG_FORMAT": "json",
            "DATA_DIR": str(directory / "data"),
            # Rotations reach a running server within a second instead of 30.
            "KEY_REFRESH_INTERVAL_SECONDS": "1",
        }
    )

    def make(**env: str) -> Server:
        server = Server({**base, **env}, directory / f"server-{len(started)}.log")
        started.append(server)
        return server.start()

    try:
        yield make
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator["ServerFactory"]:
    """Servers share nothing but what their environment says (DATA_DIR, URLs)."""
    with serving(tmp_path) as make:
        yield make


ServerFactory = Callable[..., Server]
