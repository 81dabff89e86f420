"""Observability cost: what Prometheus metrics and OpenTelemetry tracing take from
throughput and add to latency.

Starts four real servers on the embedded default (SQLite, one worker, cache on):
  baseline              METRICS_ENABLED=false, tracing off
  metrics               the default: MetricsMiddleware and /metrics
  metrics+tracing       also OTEL_EXPORTER_OTLP_ENDPOINT, pointing at a local OTLP/HTTP
                        sink this benchmark runs: every request traced, spans exported
  metrics+tracing 10 %  the same with one trace in ten sampled
then loads `GET /api/v1/auth/me` (a registered user's bearer token) and `GET /health`
on each, alternating the variants, and prints median throughput, p50/p99 latency, the
server's CPU time per request, and both changes against the baseline (median of the
per-repetition pairs, with their range). CPU per request is the steadier figure: the
load generator competes with the server for the same cores.

    .venv/bin/python bench/observability_cost.py [--seconds 5] [--repetitions 7]
        [--connections 2] [--client auto|wrk|python]

Loopback only; bounded in time (about repetitions x 4 x 2 x (seconds + warm-up)).
"""

import argparse
import contextlib
import os

import harness

ME = "/api/v1/auth/me"
HEALTH = "/health"
PATHS = (ME, HEALTH)
BASELINE, METRICS = "baseline", "metrics"
TRACED = {
    "metrics+tracing": {},
    # The standard OpenTelemetry variables: a new trace is recorded one time in ten.
    "metrics+tracing 10 %": {
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    },
}


async def main(args: argparse.Namespace) -> None:
    load = harness.Load(args.client, args.connections, args.seconds, args.warmup)
    async with contextlib.AsyncExitStack() as stack:
        # One sink per traced server, so each one's spans are counted apart.
        sinks = {name: await stack.enter_async_context(harness.otlp_sink()) for name in TRACED}
        variants: dict[str, dict[str, str]] = {BASELINE: {"METRICS_ENABLED": "false"}, METRICS: {}}
        for name, sampling in TRACED.items():
            variants[name] = {"OTEL_EXPORTER_OTLP_ENDPOINT": sinks[name].base, **sampling}
        servers = {
            name: await stack.enter_async_context(harness.serve(name, **settings))
            for name, settings in variants.items()
        }
        tokens = {name: await harness.sign_up(server, 1) for name, server in servers.items()}
        runs = {path: harness.Runs() for path in PATHS}
        for name, server in servers.items():  # the first runs are slower: pools, caches
            for path in PATHS:
                await load.run(server, path, tokens[name] if path == ME else ())
        for rep, name in harness.alternating(list(variants), args.repetitions):
            for path in PATHS:
                result = await load.run(servers[name], path, tokens[name] if path == ME else ())
                runs[path].add(name, result)
            print(f"  repetition {rep + 1}/{args.repetitions}: {name} done", flush=True)
        served = {}
        for name in TRACED:  # since start: readiness polls, sign-up and warm-ups included
            scraped = await harness.scrape(servers[name])
            served[name] = {
                path: harness.total(scraped, "hexahub_http_requests_total", route=path)
                for path in PATHS
            }
        spans = {name: await harness.settled_sink_stats(sink) for name, sink in sinks.items()}
        sink_cpu = sum(harness.cpu_seconds(sink.process.pid) for sink in sinks.values())

    print()
    print(
        f"{os.cpu_count()} CPUs; load: {load.describe()}; {args.repetitions} x {args.seconds:g} s "
        f"per variant and path after {args.warmup:g} s warm-up; server and client share the CPUs"
    )
    for path in PATHS:
        print(f"\nGET {path}")
        print(runs[path].table(variants, BASELINE))
    print("\nspans exported since start:")
    for name, stats in spans.items():
        print(f"  {name}: {stats['posts']} posts, {stats['bytes']:,} bytes")
        for path in PATHS:
            root = f"GET {path}"
            traces = stats["requests"].get(root, 0)
            per = stats["spans_by_request"].get(root, 0) / traces if traces else 0
            print(
                f"    {root}: {traces} traces for {served[name][path]:.0f} requests served, "
                f"{per:.1f} spans per trace"
            )
    print(f"  the sinks used {sink_cpu:.1f} CPU seconds of the same cores while counting them")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured load before each run")
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    harness.run(main(parser.parse_args()))
