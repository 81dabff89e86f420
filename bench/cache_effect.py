"""Cache effect: what the user/roles cache does for `GET /api/v1/auth/me`, the read
behind every authenticated request.

Variants, each a real server loaded in turn (alternating, several repetitions):
  sqlite, cache off        CACHE_ENABLED=false on the embedded default
  sqlite, in-process       the default: the in-process tier only (SQLite, one worker)
and with --redis URL (or REDIS_URL) also, on --database URL (or DATABASE_URL; a
throwaway database: the benchmark migrates it and registers users), else on SQLite:
  redis, cache off         REDIS_URL set (revocations in Redis), CACHE_ENABLED=false
  redis, tiered            in-process tier over Redis, invalidated over pub/sub
Each Redis variant gets its own key prefix, whose keys are deleted at the end.

Each server gets one unmeasured run first (pools and caches fill). Prints median
throughput, p50/p99 latency, the server's CPU time per request and the changes against
the variant without cache, then, per server over the repetitions (their warm-ups
included), SQL statements per request and the hit ratio per cache (`user`, `roles`) and
tier (`local`, `redis`) read from `hexahub_cache_requests_total` on /metrics.

    .venv/bin/python bench/cache_effect.py [--users 50] [--seconds 5] [--repetitions 5]
        [--connections 8] [--client auto|wrk|python] [--redis URL] [--database URL]

Loopback (or the given servers) only; bounded in time.
"""

import argparse
import contextlib
import os
import uuid

import harness

ME = "/api/v1/auth/me"


def variants(redis: str | None, database: str | None) -> dict[str, dict[str, str]]:
    chosen = {"sqlite, cache off": {"CACHE_ENABLED": "false"}, "sqlite, in-process": {}}
    if redis:
        storage = {"DATABASE_URL": database} if database else {}
        kind = "postgres" if database and database.startswith("postgres") else "sqlite"
        run = uuid.uuid4().hex[:8]
        for name, cache in (("cache off", "false"), ("tiered", "true")):
            prefix = f"hexahub-bench-{run}-{'off' if cache == 'false' else 'tiered'}:"
            chosen[f"{kind}+redis, {name}"] = {
                **storage,
                "REDIS_URL": redis,
                "REDIS_KEY_PREFIX": prefix,
                "CACHE_ENABLED": cache,
            }
    return chosen


async def main(args: argparse.Namespace) -> None:
    load = harness.Load(args.client, args.connections, args.seconds, args.warmup)
    chosen = variants(args.redis, args.database)
    runs = harness.Runs()
    counts: dict[str, tuple[harness.Samples, harness.Samples]] = {}
    try:
        async with contextlib.AsyncExitStack() as stack:
            servers = {
                name: await stack.enter_async_context(harness.serve(name.split(",")[0], **env))
                for name, env in chosen.items()
            }
            tokens = {name: await harness.sign_up(s, args.users) for name, s in servers.items()}
            for name, server in servers.items():  # the first runs are slower: pools, caches
                await load.run(server, ME, tokens[name])
            before = {name: await harness.scrape(s) for name, s in servers.items()}
            for rep, name in harness.alternating(list(chosen), args.repetitions):
                runs.add(name, await load.run(servers[name], ME, tokens[name]))
                print(f"  repetition {rep + 1}/{args.repetitions}: {name} done", flush=True)
            for name, server in servers.items():
                counts[name] = (before[name], await harness.scrape(server))
    finally:
        if args.redis:
            await harness.delete_redis_keys(
                args.redis,
                [env["REDIS_KEY_PREFIX"] for env in chosen.values() if "REDIS_KEY_PREFIX" in env],
            )

    print()
    print(
        f"{os.cpu_count()} CPUs; load: {load.describe()}, cycling through {args.users} users' "
        f"tokens; {args.repetitions} x {args.seconds:g} s per variant after {args.warmup:g} s "
        "warm-up; server and client share the CPUs"
    )
    groups = [[name for name in chosen if not name.startswith(("sqlite+", "postgres+"))]]
    groups.append([name for name in chosen if name not in groups[0]])
    for group in filter(None, groups):
        print(f"\nGET {ME}")
        print(runs.table(group, baseline=group[0]))
    print("\nper server, over the repetitions:")
    for name, (before, after) in counts.items():
        first, *rest = _cache_lines(before, after)
        print(f"  {name}: {first}")
        for line in rest:
            print(f"  {line}")


def _cache_lines(before: harness.Samples, after: harness.Samples) -> list[str]:
    def moved(metric: str, **labels: str) -> float:
        return harness.total(after, metric, **labels) - harness.total(before, metric, **labels)

    requests = moved("hexahub_http_requests_total", method="GET", route=ME)
    statements = moved("hexahub_db_query_duration_seconds_count")
    lines = [f"{requests:.0f} requests, {statements / requests:.2f} SQL statements per request"]
    for cache in ("user", "roles"):
        ratios = []
        for tier in ("local", "redis"):
            hits = moved("hexahub_cache_requests_total", cache=cache, tier=tier, result="hit")
            misses = moved("hexahub_cache_requests_total", cache=cache, tier=tier, result="miss")
            if hits + misses:
                ratios.append(
                    f"{tier} {hits / (hits + misses):.4f} ({hits:.0f}/{hits + misses:.0f})"
                )
        if ratios:
            lines.append(f"  {cache + ' hit ratio:':<17} {', '.join(ratios)}")
    if len(lines) == 1:
        lines[0] += ", no cache lookups"
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="users whose tokens are cycled")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured load before each run")
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument(
        "--redis", default=os.environ.get("REDIS_URL"), help="adds the tiered cache"
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("DATABASE_URL"),
        help="a throwaway database for the Redis variants (migrated, users registered)",
    )
    harness.run(main(parser.parse_args()))
