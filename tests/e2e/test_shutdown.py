"""SIGTERM on the real server: readiness turns 503 at once, the server keeps serving for
the drain, requests in flight at the signal finish with 2xx, the writes they acknowledged
survive a restart, and the process exits 0 within its bound."""

import json
import re
import signal
import socket
import subprocess
import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import Server, ServerFactory

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
IN_FLIGHT = re.compile(r"^hexahub_http_requests_in_flight(?:\{[^}]*\})? (\S+)$", re.MULTILINE)


class HeldRegistration:
    """A registration whose headers and first half of the body are sent: the server has
    handed it to the app, which waits for the rest. In flight for as long as we like."""

    def __init__(self, server: Server) -> None:
        self.username = f"sd{uuid.uuid4().hex[:10]}"
        body = json.dumps(
            {
                "email": f"{self.username}@example.com",
                "username": self.username,
                "password": PASSWORD,
            }
        ).encode()
        head = (
            f"POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        self._rest = body[len(body) // 2 :]
        self._sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        self._sock.sendall(head + body[: len(body) // 2])

    def finish(self) -> int:
        """Send the rest of the body; the response's status (0: closed without one)."""
        try:
            self._sock.sendall(self._rest)
            return self.status()
        finally:
            self._sock.close()

    def status(self) -> int:
        response = b""
        while b"\r\n" not in response:
            chunk = self._sock.recv(4096)
            if not chunk:
                return 0
            response += chunk
        return int(response.split(b" ", 2)[1])


def _process(server: Server) -> "subprocess.Popen[bytes]":
    process = server._process  # the fixture's handle on the child; we signal it ourselves
    assert process is not None
    return process


def _wait_in_flight(server: Server, count: int) -> None:
    """Until the server counts `count` requests in flight besides the scrape itself."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = IN_FLIGHT.search(httpx.get(f"{server.url}/metrics").text)
        if found and float(found.group(1)) >= count + 1:
            return
        time.sleep(0.05)
    raise AssertionError(f"the server never had {count} requests in flight")


def _readiness_until_closed(server: Server) -> list[httpx.Response]:
    """Poll readiness on new connections until the server stops answering them: refused
    (one process closes its socket), reset (it closed with this connection still in its
    backlog) or left waiting (with workers, the supervisor keeps the socket open while no
    worker accepts any more). The wait allows for the probes' own two-second deadline on
    a loaded machine."""
    answers: list[httpx.Response] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            answers.append(httpx.get(f"{server.url}/health/ready", timeout=5))
        except (httpx.ConnectError, httpx.ReadError, httpx.ReadTimeout, httpx.RemoteProtocolError):
            return answers
        time.sleep(0.05)
    raise AssertionError("the server kept accepting connections past the drain")


def _assert_drained(answers: list[httpx.Response]) -> None:
    draining = [a for a in answers if a.status_code == 503]
    assert draining, f"readiness never answered 503: {[a.status_code for a in answers]}"
    # Before the signal reaches a worker it may still say ok; once draining, never again.
    first = answers.index(draining[0])
    assert all(a.status_code == 503 for a in answers[first:]), [a.status_code for a in answers]
    body = draining[0].json()
    assert body["status"] == "draining"
    assert body["checks"]["database"]["status"] == "ok"  # the same shape as any readiness


def _assert_can_log_in(server: Server, usernames: list[str]) -> None:
    for username in usernames:
        login = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert login.status_code == 200, (username, login.text)


def test_requests_in_flight_at_sigterm_complete_and_survive_a_restart(
    server_factory: ServerFactory,
) -> None:
    server = server_factory(SHUTDOWN_DRAIN_SECONDS="2", SHUTDOWN_TIMEOUT_SECONDS="10")
    held = [HeldRegistration(server) for _ in range(5)]
    _wait_in_flight(server, len(held))

    process = _process(server)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    # At once, and for the whole drain, readiness says 503 on new connections (which are
    # still served); then the socket closes and new connections are refused.
    answers = _readiness_until_closed(server)
    assert answers[0].status_code == 503
    _assert_drained(answers)
    assert time.monotonic() - signalled >= 2  # the drain was served, not skipped
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/health", timeout=1)

    # The held requests outlived the drain and the closed socket; they still complete.
    assert [request.finish() for request in held] == [201] * len(held)
    assert process.wait(timeout=10) == 0, server.log()
    assert time.monotonic() - signalled < 2 + 10

    server.start()  # the same SQLite file: every acknowledged registration is there
    _assert_can_log_in(server, [request.username for request in held])


def test_a_request_stuck_past_the_timeout_does_not_hold_up_the_exit(
    server_factory: ServerFactory,
) -> None:
    server = server_factory(SHUTDOWN_DRAIN_SECONDS="0", SHUTDOWN_TIMEOUT_SECONDS="1")
    stuck = HeldRegistration(server)  # its body never completes
    _wait_in_flight(server, 1)

    process = _process(server)
    process.send_signal(signal.SIGTERM)
    # Without the bound the request would hold the process for ever: one second for it,
    # then the lifespan shutdown, itself bounded at a few seconds.
    assert process.wait(timeout=10) == 0, server.log()
    assert stuck.status() not in range(200, 300)  # cut off, so nothing was acknowledged


def test_with_two_workers_requests_in_flight_at_sigterm_complete(
    server_factory: ServerFactory,
) -> None:
    server = server_factory(WORKERS="2", SHUTDOWN_DRAIN_SECONDS="1", SHUTDOWN_TIMEOUT_SECONDS="10")
    # Several, so that the kernel hands some to each worker.
    held = [HeldRegistration(server) for _ in range(8)]
    _wait_in_flight(server, len(held))

    process = _process(server)
    process.send_signal(signal.SIGTERM)  # the supervisor passes it to each worker
    _assert_drained(_readiness_until_closed(server))

    assert [request.finish() for request in held] == [201] * len(held)
    assert process.wait(timeout=15) == 0, server.log()
    server.start()
    _assert_can_log_in(server, [request.username for request in held])
