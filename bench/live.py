"""Live events: what idle WebSocket connections cost, and what a slow consumer costs.

Starts the real server (`hexahub serve`, one process, the embedded SQLite default), then:
1. opens --connections (default 1,000) WebSocket connections to `GET /api/v1/events`,
   each authenticated and subscribed, and leaves them idle: prints the server's resident
   memory before and after, and per connection;
2. connects one consumer that never reads (its socket's receive buffer kept small) and
   one that reads, commits --events (default 3,000) changes through the REST API, and
   prints the server's resident memory as they flow: it stays flat, because the slow
   consumer's queue is bounded (`LIVE_QUEUE_LIMIT`) and it is closed with 4429 once
   it is that far behind, while the fast consumer gets every event.

    .venv/bin/python bench/live.py [--connections 1000] [--events 3000]

Loopback only; bounded in time.
"""

import argparse
import asyncio
import contextlib
import json
import socket
import time
from typing import Any

import harness
import httpx
from soak import rss_mib
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ADMIN_PASSWORD = "bench admin passphrase 42"  # a throwaway server's


async def admin_token(server: harness.Server) -> str:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        response = await client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


async def open_socket(
    server: harness.Server, token: str, topics: list[str], **options: Any
) -> ClientConnection:
    socket_ = await connect(
        f"ws://127.0.0.1:{server.port}/api/v1/events",
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=30,
        **options,
    )
    assert json.loads(await socket_.recv()) == {"type": "ready"}
    await socket_.send(json.dumps({"type": "subscribe", "topics": topics}))
    assert json.loads(await socket_.recv())["type"] == "subscribed"
    return socket_


async def idle_connections(server: harness.Server, token: str, count: int) -> None:
    warm = await open_socket(server, token, ["account"])  # first-use imports and caches
    await warm.close()
    await asyncio.sleep(1)
    before = rss_mib(server.process.pid)
    gate = asyncio.Semaphore(50)

    async def one() -> ClientConnection:
        async with gate:
            return await open_socket(server, token, ["account", "users"])

    started = time.perf_counter()
    sockets = await asyncio.gather(*(one() for _ in range(count)))
    opened = time.perf_counter() - started
    await asyncio.sleep(2)
    after = rss_mib(server.process.pid)
    grown = after - before
    print(f"idle connections: {count} opened in {opened:.1f} s")
    print(f"  server memory before: {before:.1f} MiB, with them open: {after:.1f} MiB")
    print(
        f"  cost: {grown:.1f} MiB for {count} ({grown * 1024 / count:.0f} KiB each); "
        f"{'under' if grown < 100 else 'OVER'} the 100 MiB budget"
    )
    await asyncio.gather(*(s.close() for s in sockets))


def small_receive_buffer() -> socket.socket:
    """A client socket whose kernel receive buffer stays small, so a reader that stops
    reading is felt by the server after kilobytes, not megabytes."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


async def drain(connection: ClientConnection) -> int:
    """Events read until the server closes the connection (or 5 s of silence)."""
    count = 0
    with contextlib.suppress(ConnectionClosed, TimeoutError):
        while True:
            message = json.loads(await asyncio.wait_for(connection.recv(), timeout=5))
            count += message.get("type") == "event"
    return count


RESUME_AFTER_SECONDS = 25.0
"""The slow consumer reads again after this: past the server's send timeout (10 s, once
its buffers are full), within its wait for the close frame (30 s) and before its pings
(every 20 s, 20 s to answer) would count the peer as dead."""


async def read_later(connection: ClientConnection, seconds: float) -> int:
    await asyncio.sleep(seconds)
    connection.transport.resume_reading()
    return await drain(connection)


async def slow_consumer(server: harness.Server, token: str, events: int) -> None:
    slow_sock = small_receive_buffer()
    slow_sock.connect(("127.0.0.1", server.port))
    slow = await open_socket(server, token, ["users"], sock=slow_sock, max_queue=1)
    slow.transport.pause_reading()  # never reads again (until the end)
    fast = await open_socket(server, token, ["users"])
    received = 0

    async def read_fast() -> None:
        nonlocal received
        while received < events:
            message = json.loads(await fast.recv())
            if message.get("type") == "event" and message["event"]["name"] == "user.updated":
                received += 1

    reading = asyncio.create_task(read_fast())
    samples = [rss_mib(server.process.pid)]
    started = time.perf_counter()
    draining = asyncio.create_task(read_later(slow, RESUME_AFTER_SECONDS))
    async with httpx.AsyncClient(
        base_url=server.base, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        me = (await client.get("/api/v1/auth/me")).json()["id"]
        gate = asyncio.Semaphore(4)

        async def change(n: int) -> None:
            async with gate:
                for _ in range(20):  # SQLite has one writer: a busy answer is retried
                    response = await client.patch(
                        f"/api/v1/users/{me}", json={"full_name": f"N{n}"}
                    )
                    if response.status_code != 503:
                        break
                    await asyncio.sleep(0.05)
                response.raise_for_status()

        step = max(1, events // 6)
        for start in range(0, events, step):
            await asyncio.gather(*(change(n) for n in range(start, min(events, start + step))))
            samples.append(rss_mib(server.process.pid))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(reading, timeout=30)
    slow_received = await draining
    code = slow.close_code or "none: still open, the backlog fitted in the kernel's buffers"
    print(
        f"slow consumer: {events} events committed in {time.perf_counter() - started:.0f} s "
        "while one client read nothing"
    )
    print("  server memory as they flowed (MiB): " + ", ".join(f"{s:.1f}" for s in samples))
    print(f"  growth: {samples[-1] - samples[0]:+.1f} MiB from the first sample to the last")
    print(f"  the fast consumer received {received} of {events}")
    print(
        f"  the slow consumer got {slow_received} events (those in flight when it stopped "
        f"reading), then was closed with {code} (4429: too slow to keep up)"
    )
    await fast.close()


async def main(args: argparse.Namespace) -> None:
    async with harness.serve(
        "live",
        FIRST_ADMIN_EMAIL="admin@example.com",
        FIRST_ADMIN_PASSWORD=ADMIN_PASSWORD,
        LIVE_MAX_CONNECTIONS_PER_USER=str(args.connections + 10),
        LIVE_QUEUE_LIMIT=str(args.queue_limit),
    ) as server:
        token = await admin_token(server)
        await idle_connections(server, token, args.connections)
        await asyncio.sleep(1)
        await slow_consumer(server, token, args.events)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--queue-limit", type=int, default=1000, help="LIVE_QUEUE_LIMIT")
    harness.run(main(parser.parse_args()))
