"""Soak: does the server's memory stay flat under hours of ordinary traffic?

Starts the real server (the embedded default, or --database/--redis), registers users,
then runs mixed traffic from 16 keep-alive connections for --minutes (default 10):
GET /auth/me (most of it), GET /users pages, /health, logins, refreshes, profile edits
and new registrations. Prints the resident memory after the warm-up (the first fifth,
at most 2 minutes), every 30 s, and at the end, with the growth after the warm-up.

    .venv/bin/python bench/soak.py [--minutes 10] [--connections 16]
        [--database URL] [--redis URL]

Loopback only; bounded in time. The database should be a throwaway one.
"""

import argparse
import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter
from pathlib import Path

import harness
import httpx

ME = "/api/v1/auth/me"


def rss_mib(pid: int) -> float:
    """Resident memory of the server and its workers."""
    total = 0.0
    for process in [pid, *harness._children(pid)]:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
    return total


class Traffic:
    def __init__(self, client: httpx.AsyncClient, admin: str, users: list[dict[str, str]]):
        self.client = client
        self.admin = admin
        self.users = users  # username, access_token, refresh_token
        self.outcomes: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()

    async def one(self, users: list[dict[str, str]]) -> None:
        user = random.choice(users)
        bearer = {"Authorization": f"Bearer {user['access_token']}"}
        roll = random.random()
        if roll < 0.60:
            response = await self.client.get(ME, headers=bearer)
        elif roll < 0.75:
            response = await self.client.get(
                "/api/v1/users?limit=100", headers={"Authorization": f"Bearer {self.admin}"}
            )
        elif roll < 0.85:
            response = await self.client.get("/health")
        elif roll < 0.90:
            response = await self.client.post(
                "/api/v1/auth/refresh", json={"refresh_token": user["refresh_token"]}
            )
            if response.status_code == 200:
                user.update(response.json())
        elif roll < 0.95:
            response = await self.client.post(
                "/api/v1/auth/login",
                json={"username": user["username"], "password": harness.PASSWORD},
            )
            if response.status_code == 200:
                user.update(response.json())
        elif roll < 0.98:
            name = f"s{uuid.uuid4().hex[:12]}"
            response = await self.client.post(
                "/api/v1/auth/register",
                json={
                    "email": f"{name}@example.com",
                    "username": name,
                    "password": harness.PASSWORD,
                },
            )
        else:
            response = await self.client.patch(
                ME, headers=bearer, json={"full_name": f"Soak {random.randrange(10**6)}"}
            )
        self.outcomes[f"{response.status_code // 100}xx"] += 1
        if response.status_code >= 400:
            request = response.request
            self.refusals[f"{request.method} {request.url.path} {response.status_code}"] += 1


def _logged_events(server: harness.Server) -> Counter[str]:
    """The server's warning and error lines (it logs nothing below WARNING here), by event."""
    events: Counter[str] = Counter()
    for line in (
        (server.data_dir / f"server-{server.name}.log").read_text(errors="replace").splitlines()
    ):
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            reason = f" ({record['reason']})" if "reason" in record else ""
            events[f"{record.get('level')} {record.get('event')}{reason}"] += 1
    return events


async def main(args: argparse.Namespace) -> None:
    settings = {
        "FIRST_ADMIN_EMAIL": "admin@soak.example",
        "FIRST_ADMIN_PASSWORD": harness.PASSWORD,
        "LOG_FORMAT": "json",
    }
    if args.database:
        settings["DATABASE_URL"] = args.database
    prefix = f"hexahub-soak-{uuid.uuid4().hex[:8]}:"
    if args.redis:
        settings |= {"REDIS_URL": args.redis, "REDIS_KEY_PREFIX": prefix}
    try:
        await soak(args, settings)
    finally:
        if args.redis:
            await harness.delete_redis_keys(args.redis, [prefix])


async def soak(args: argparse.Namespace, settings: dict[str, str]) -> None:
    async with (
        harness.serve("soak", **settings) as server,
        httpx.AsyncClient(
            base_url=server.base,
            timeout=60,
            limits=httpx.Limits(max_connections=args.connections),
        ) as client,
    ):
        admin = await client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": harness.PASSWORD}
        )
        admin.raise_for_status()
        names = [f"k{uuid.uuid4().hex[:10]}" for _ in range(args.users)]
        for name in names:
            registered = await client.post(
                "/api/v1/auth/register",
                json={
                    "email": f"{name}@example.com",
                    "username": name,
                    "password": harness.PASSWORD,
                },
            )
            registered.raise_for_status()
        users = []
        for name in names:
            login = await client.post(
                "/api/v1/auth/login", json={"username": name, "password": harness.PASSWORD}
            )
            login.raise_for_status()
            users.append({"username": name, **login.json()})
        traffic = Traffic(client, admin.json()["access_token"], users)
        pid = server.process.pid
        seconds = args.minutes * 60
        warmup = min(seconds / 5, 120)
        started = time.monotonic()
        stop = started + seconds

        async def connection(mine: list[dict[str, str]]) -> None:
            # Each connection has users of its own: two clients rotating one refresh token
            # at once would be refused as a replay, by design.
            while time.monotonic() < stop:
                await traffic.one(mine)

        workers = [
            asyncio.create_task(connection(users[k :: args.connections]))
            for k in range(args.connections)
        ]
        await asyncio.sleep(warmup)
        after_warmup = rss_mib(pid)
        print(f"after {warmup:.0f} s warm-up: RSS {after_warmup:.1f} MiB", flush=True)
        while time.monotonic() < stop:
            await asyncio.sleep(min(30, max(0.0, stop - time.monotonic())))
            served = sum(traffic.outcomes.values())
            print(
                f"  {time.monotonic() - started:5.0f} s: RSS {rss_mib(pid):.1f} MiB, "
                f"{served} requests",
                flush=True,
            )
        await asyncio.gather(*workers)
        final = rss_mib(pid)
        warnings = _logged_events(server)
    served = sum(traffic.outcomes.values())
    growth = (final - after_warmup) / after_warmup * 100
    print(
        f"\n{args.minutes:g} min of mixed traffic, {args.connections} connections: {served} "
        f"requests ({served / seconds:.0f}/s), {dict(sorted(traffic.outcomes.items()))}"
    )
    if traffic.refusals:
        print(f"not 2xx: {dict(traffic.refusals.most_common())}")
    if warnings:
        print(f"server warnings and errors: {dict(warnings.most_common())}")
    print(f"RSS after warm-up {after_warmup:.1f} MiB, at the end {final:.1f} MiB: {growth:+.1f} %")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--users", type=int, default=64, help="at least --connections")
    parser.add_argument("--database", help="a throwaway database (migrated here)")
    parser.add_argument("--redis", help="Redis URL; keys under a prefix of this run")
    harness.run(main(parser.parse_args()))
