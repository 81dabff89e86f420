"""What a client can make the real server hold: request heads are bounded in size (431
before they are buffered) and in time (408), and the process stays small and
responsive while clients send endless headers."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, ServerFactory

pytestmark = pytest.mark.e2e

MIB = 1024 * 1024


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _head(server: Server, *headers: str, method: str = "GET", path: str = "/health") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status(sock: socket.socket) -> int:
    """The status of the answer on `sock` (0: closed without one)."""
    answer = b""
    while b"\r\n" not in answer:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return 0
        if not chunk:
            return 0
        answer += chunk
    return int(answer.split(b" ", 2)[1])


def _send_quietly(sock: socket.socket, data: bytes, chunk: int = 256 * 1024) -> int:
    """Send until done or the server closes; the bytes it took."""
    sent = 0
    try:
        while sent < len(data):
            sent += sock.send(data[sent : sent + chunk])
    except OSError:
        pass
    return sent


@contextmanager
def _probing_health(server: Server) -> Iterator[list[int]]:
    """Call /health every 50 ms meanwhile; the statuses (0 for a failure)."""
    statuses: list[int] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=server.url, timeout=2) as client:
            while not stop.is_set():
                try:
                    statuses.append(client.get("/health").status_code)
                except httpx.HTTPError:
                    statuses.append(0)
                stop.wait(0.05)

    thread = threading.Thread(target=probe)
    thread.start()
    try:
        yield statuses
    finally:
        stop.set()
        thread.join()


def test_an_8_mib_header_is_refused_with_431_in_the_error_envelope(
    server_factory: ServerFactory,
) -> None:
    server = server_factory()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sender = threading.Thread(
            target=_send_quietly, args=(sock, _head(server, "X-Big: " + "a" * (8 * MIB)))
        )
        sender.start()
        answer = b""
        while not answer.endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        sender.join()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert b"x-request-id: " in head.lower()
    assert b'"error": "request_header_fields_too_large"' in body


def test_heads_within_the_limit_and_large_bodies_are_served(server_factory: ServerFactory) -> None:
    server = server_factory(MAX_HEADER_BYTES="16384")
    cookie = "c=" + "x" * 12_000  # a 12 KiB cookie: large, but within 16 KiB
    response = httpx.get(f"{server.url}/health", headers={"Cookie": cookie}, timeout=10)
    assert response.status_code == 200

    # A head that ends just across two reads, then a 64 KiB body in the second read: the
    # bytes after the head are body, not head.
    body = b'{"email": "' + b"a" * 65_000 + b'"}'
    head = _head(
        server,
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "X-Padding: " + "p" * 15_000,
        method="POST",
        path="/api/v1/auth/register",
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head[:-2])
        time.sleep(0.3)
        sock.sendall(head[-2:] + body)
        assert _status(sock) == 422  # the app read the body and refused its content


def test_a_head_not_finished_in_time_is_answered_408(server_factory: ServerFactory) -> None:
    server = server_factory(HEADER_TIMEOUT_SECONDS="1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        assert _status(slow) == 408
        assert 0.5 < time.monotonic() - started < 5
    # A keep-alive client is not cut off by the head timeout between its requests.
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/health").status_code == 200
        time.sleep(1.5)
        assert client.get("/health").status_code == 200


def test_endless_headers_on_several_connections_keep_the_process_small_and_answering(
    server_factory: ServerFactory,
) -> None:
    server = server_factory()
    assert server.pid is not None
    with httpx.Client(base_url=server.url) as client:  # settle allocations first
        for _ in range(50):
            client.get("/health")
    before = _rss_mib(server.pid)
    unfinished = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Endless: " + b"a" * (50 * MIB)
    peak = before
    with _probing_health(server) as statuses:
        sockets = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
        try:
            senders = [
                threading.Thread(target=_send_quietly, args=(sock, unfinished)) for sock in sockets
            ]
            for sender in senders:
                sender.start()
            while any(sender.is_alive() for sender in senders):
                peak = max(peak, _rss_mib(server.pid))
                time.sleep(0.02)
            statuses_during = list(statuses)
        finally:
            for sock in sockets:
                sock.close()
    peak = max(peak, _rss_mib(server.pid))
    assert peak - before < 16, f"RSS grew from {before:.0f} to {peak:.0f} MiB"
    assert statuses_during, "/health was not probed while the headers were sent"
    assert set(statuses) == {200}
