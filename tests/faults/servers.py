"""Throwaway PostgreSQL and Redis servers that a fault test may stop and start at will.

Each lives in its own temporary directory on a free loopback port, never the machine's
shared 5432/6379 servers, and keeps its port and (for Postgres) its data across a stop
and a start, so a HexaHub process pointed at it sees an outage and then the same server
come back.
"""

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

START_TIMEOUT_SECONDS = 30


class MissingBinaryError(RuntimeError):
    """A server binary is not installed here; the fixture decides: fail in CI, else skip."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<ver>/bin (Debian), else wherever `initdb` is."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)] or [0],
        reverse=True,
    )
    for candidate in versions:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    raise MissingBinaryError("PostgreSQL server binaries (initdb, pg_ctl) not found")


class ThrowawayPostgres:
    """`initdb` into a temporary directory, trust auth, listening on 127.0.0.1 only.

    Postgres refuses to run as root, so as root every command runs as the `postgres`
    user through `runuser`, in a directory that user owns.
    """

    def __init__(self) -> None:
        self._bin = postgres_bin_dir()
        self._as_user: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                raise MissingBinaryError("running as root and no 'postgres' user") from None
            runuser = shutil.which("runuser")
            if runuser is None:
                raise MissingBinaryError("running as root and no `runuser` to drop to postgres")
            self._as_user = [runuser, "-u", "postgres", "--"]
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="hexahub-faults-pg-"))
        if owner is not None:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data_dir = self.root / "data"
        self.log_path = self.root / "postgres.log"
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "--no-sync")
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            # Durability is not under test and costs seconds per run.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
        }
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-w", "-t", "30", "start"
        )

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash (open connections drop at once); `fast` a clean stop."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    @property
    def running(self) -> bool:
        status = subprocess.run(
            [*self._as_user, str(self._bin / "pg_ctl"), "-D", str(self.data_dir), "status"],
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-4000:]
        return ""

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            if self.running:
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self._as_user, str(self._bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS + 15,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{self.log()}"
            )


class ThrowawayRedis:
    """`redis-server` as a child process, nothing persisted: a restart comes back empty,
    as a crashed cache without persistence does."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise MissingBinaryError("redis-server not found")
        self._binary = binary
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="hexahub-faults-redis-"))
        self.log_path = self.root / "redis.log"
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # `--save ""` and `--appendonly no`: no disk, so nothing survives a stop.
        self._process = subprocess.Popen(
            [
                self._binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                "--logfile",
                str(self.log_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited early:\n{self.log()}")
            if self._pong():
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer PING:\n{self.log()}")

    def stop(self, hard: bool = True) -> None:
        """`hard`: SIGKILL, a crash; otherwise SIGTERM, a clean shutdown."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-4000:]
        return ""

    def destroy(self) -> None:
        self.stop(hard=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def _pong(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False
