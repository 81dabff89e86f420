"""Login storm: does password hashing starve other requests or balloon memory?

Starts the real server (embedded SQLite, real argon2id), then fires LOGINS concurrent
logins, spread over ACCOUNTS accounts, while a prober calls /health every 10 ms.
Prints login throughput and outcomes, /health latency during the storm, and the
server's peak resident memory.

    .venv/bin/python bench/login_storm.py [--logins N] [--concurrency N] [--accounts N]

Loopback only; bounded in count and time.
"""

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def main(logins: int, concurrency: int, accounts: int) -> None:
    data = tempfile.mkdtemp(prefix="hexahub-bench-")
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": data,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
        # Measures hashing under load, not the limits that would refuse most of it.
        "RATE_LIMIT_ENABLED": "false",
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    cli = [sys.executable, "-m", "entrypoints.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([*cli, "serve"], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for _ in range(100):
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            # Several accounts: one account's concurrent logins beyond the lockout
            # threshold are refused by design (each counts before its check).
            for n in range(accounts):
                registered = await client.post(
                    "/api/v1/auth/register",
                    json={
                        "email": f"storm{n}@example.com",
                        "username": f"storm{n}",
                        "password": PASSWORD,
                    },
                )
                registered.raise_for_status()
            rss_before = peak_rss_mib(server.pid)
            health_ms: list[float] = []
            done = asyncio.Event()

            async def probe() -> None:
                while not done.is_set():
                    started = time.perf_counter()
                    await client.get("/health")
                    health_ms.append((time.perf_counter() - started) * 1000)
                    await asyncio.sleep(0.01)

            gate = asyncio.Semaphore(concurrency)

            async def login(n: int) -> int:
                async with gate:
                    response = await client.post(
                        "/api/v1/auth/login",
                        json={"username": f"storm{n % accounts}", "password": PASSWORD},
                    )
                    return response.status_code

            prober = asyncio.create_task(probe())
            started = time.perf_counter()
            codes = Counter(await asyncio.gather(*(login(n) for n in range(logins))))
            elapsed = time.perf_counter() - started
            done.set()
            await prober
    finally:
        rss_peak = peak_rss_mib(server.pid)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    ok = codes.get(200, 0)
    quantiles = statistics.quantiles(health_ms, n=100)
    print(
        f"logins: {logins} over {accounts} accounts at concurrency {concurrency} in {elapsed:.2f} s"
    )
    print(f"  outcomes: {dict(sorted(codes.items()))}")
    print(f"  successful logins per second: {ok / elapsed:.1f}")
    print(
        f"/health during the storm ({len(health_ms)} probes): "
        f"p50 {quantiles[49]:.1f} ms, p99 {quantiles[98]:.1f} ms, max {max(health_ms):.1f} ms"
    )
    print(f"server peak RSS: {rss_before:.0f} MiB before the storm, {rss_peak:.0f} MiB after")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--accounts", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.logins, args.concurrency, args.accounts))
