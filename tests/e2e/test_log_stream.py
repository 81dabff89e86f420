"""Where the real processes write their logs: standard output, every line, whether it
comes from HexaHub, uvicorn (the parent of several workers included) or Alembic, so
`docker logs` and `kubectl logs` show one ordered JSON stream and standard error stays
for a crash the logging could not report."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import _free_port

pytestmark = pytest.mark.e2e

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "JWT_"))}
    return env | {"DATA_DIR": str(data_dir), "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"} | extra


def _json_lines(text: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines, "nothing logged"
    return lines


def test_migrate_logs_alembic_to_stdout(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "migrate"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stderr == ""
    logged = [line for line in done.stdout.splitlines() if line.startswith("{")]
    loggers = {entry.get("logger") for entry in _json_lines("\n".join(logged))}
    assert "alembic.runtime.migration" in loggers


def test_the_server_and_its_workers_log_to_stdout_only(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "migrate"],
        env=_env(tmp_path),
        capture_output=True,
        timeout=60,
        check=True,
    )
    port = _free_port()
    out, err = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"],
            env=_env(tmp_path, PORT=str(port), HOST="127.0.0.1", WORKERS="2"),
            stdout=stdout,
            stderr=stderr,
        )
        try:
            url = f"http://127.0.0.1:{port}/health"
            deadline = time.monotonic() + 30
            while True:
                assert server.poll() is None, out.read_text() + err.read_text()
                try:
                    answer = httpx.get(url, headers={"traceparent": TRACEPARENT}, timeout=1)
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline, "the server never answered"
                    time.sleep(0.1)
            assert answer.status_code == 200
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    assert err.read_text() == ""
    lines = _json_lines(out.read_text())
    events = [line["event"] for line in lines]
    assert any(event.startswith("Started parent process") for event in events)
    assert events.count("started") == 2  # one per worker
    (access,) = [line for line in lines if line.get("request_id") == answer.headers["x-request-id"]]
    assert access["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
