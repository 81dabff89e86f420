"""What the benchmarks share: the real server as a subprocess, a cheap load generator,
a Prometheus scrape, alternating runs and their summary, and a tiny OTLP/HTTP sink.

Not a benchmark itself. `python bench/harness.py otlp-sink PORT` runs the sink, which
answers 200 to `POST /v1/traces`, counts spans and bytes by the request span they
belong to, and reports them at `GET /stats`.

The load generator is `wrk` when it is on the PATH (a C client, so the server keeps
most of the 2 cores) and otherwise a keep-alive HTTP/1.1 client over asyncio streams;
`--client python` forces the latter. Both run closed loops: each connection sends its
next request when the previous answer has arrived.
"""

import asyncio
import dataclasses
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
from prometheus_client.parser import text_string_to_metric_families

PASSWORD = "correct horse battery staple"
T = TypeVar("T")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

# Variables that would change what is measured if inherited from the caller's shell.
_INHERITED_OUT = ("DATABASE_URL", "REDIS_URL", "REDIS_KEY_PREFIX", "PROMETHEUS_MULTIPROC_DIR")
_INHERITED_OUT_PREFIXES = ("OTEL_", "CACHE_", "METRICS_", "WORKERS", "JWT_")
_HERE = str(Path(__file__).resolve())  # the sink runs as this file


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed (uvicorn's extra brings it): a cheaper client."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


# --- the server -----------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    data_dir: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def serve(
    name: str,
    *,
    cpus: str | None = None,
    share: Server | None = None,
    command: Sequence[str] = ("-m", "entrypoints.cli", "serve"),
    **settings: str,
) -> AsyncIterator[Server]:
    """`hexahub serve` on a free port with a temporary DATA_DIR (also its working
    directory, so no `.env` of the caller's applies), rate limits off, and `settings`
    as environment variables; migrated first, stopped with SIGTERM after. `cpus` pins
    the server (and its workers) to those cores (`taskset -c`). `share`: use that
    server's DATA_DIR (its SQLite file and secrets) instead. `command`: Python's
    arguments that start the server."""
    data_dir = share.data_dir if share else Path(tempfile.mkdtemp(prefix=f"hexahub-bench-{name}-"))
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in _INHERITED_OUT and not key.startswith(_INHERITED_OUT_PREFIXES)
    }
    env |= {
        "DATA_DIR": str(data_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "UVICORN_PORT": str(port),  # when `command` runs uvicorn itself
        "LOG_LEVEL": "WARNING",
        # Load from one address would be refused within seconds otherwise.
        "RATE_LIMIT_ENABLED": "false",
        **settings,
    }
    cli = [sys.executable, "-m", "entrypoints.cli"]
    migrated = subprocess.run(
        [*cli, "migrate"], env=env, cwd=data_dir, capture_output=True, check=False
    )
    if migrated.returncode != 0:
        raise RuntimeError(f"{name}: migrate failed: {migrated.stderr.decode()[-2000:]}")
    log = (data_dir / f"server-{name}.log").open("wb")
    process = subprocess.Popen(
        [*pinned(cpus), sys.executable, *command],
        env=env,
        cwd=data_dir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(name, port, process, data_dir)
    try:
        await wait_ready(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if share is None:
            shutil.rmtree(data_dir, ignore_errors=True)


@asynccontextmanager
async def widened(server: Server, cpus: str) -> AsyncIterator[None]:
    """Every thread of a running server (and those it starts) on `cpus` meanwhile, then
    back on the cores it had."""
    before = os.sched_getaffinity(server.process.pid)
    _set_cores(server, cpus)
    try:
        yield
    finally:
        _set_cores(server, ",".join(map(str, sorted(before))))


def _set_cores(server: Server, cpus: str) -> None:
    taskset = shutil.which("taskset")
    if taskset is None:
        raise SystemExit("taskset (util-linux) is needed to pin processes to cores")
    # -a: all the process's threads (affinity is per thread on Linux).
    subprocess.run(
        [taskset, "-a", "-p", "-c", cpus, str(server.process.pid)],
        check=True,
        capture_output=True,
    )


def pinned(cpus: str | None) -> list[str]:
    """The command prefix that runs a program on `cpus` only (nothing when None)."""
    if cpus is None:
        return []
    if shutil.which("taskset") is None:
        raise SystemExit("taskset (util-linux) is needed to pin processes to cores")
    return ["taskset", "-c", cpus]


async def wait_ready(
    server: Server, path: str = "/health", headers: dict[str, str] | None = None
) -> None:
    """Until `path` answers 200; a server that exits meanwhile raises with its log."""
    async with httpx.AsyncClient(base_url=server.base, timeout=5, headers=headers) as client:
        for _ in range(300):
            if server.process.poll() is not None:
                output = (server.data_dir / f"server-{server.name}.log").read_text(errors="replace")
                raise RuntimeError(f"{server.name}: server exited: {output[-2000:]}")
            with suppress(httpx.HTTPError):
                if (await client.get(path)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{server.name}: not ready after 30 s")


async def sign_up(server: Server, count: int) -> list[str]:
    """Register and log in `count` fresh users; their access tokens."""
    prefix = f"b{uuid.uuid4().hex[:8]}"
    gate = asyncio.Semaphore(4)

    async def one(client: httpx.AsyncClient, n: int) -> str:
        username = f"{prefix}{n}"
        async with gate:
            registered = await client.post(
                "/api/v1/auth/register",
                json={
                    "email": f"{username}@example.com",
                    "username": username,
                    "password": PASSWORD,
                },
            )
            registered.raise_for_status()
            login = await client.post(
                "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
            )
            login.raise_for_status()
            return str(login.json()["access_token"])

    async with httpx.AsyncClient(base_url=server.base, timeout=60) as client:
        return list(await asyncio.gather(*(one(client, n) for n in range(count))))


async def scrape(server: Server) -> Samples:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        response = await client.get("/metrics")
    response.raise_for_status()
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples


async def delete_redis_keys(url: str, prefixes: Iterable[str]) -> None:
    """Delete every key under each prefix (a benchmark's own namespace, never the rest)."""
    import redis.asyncio as aioredis

    client: Any = aioredis.from_url(url)
    try:
        for prefix in prefixes:
            keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=1000)]
            for start in range(0, len(keys), 1000):
                await client.delete(*keys[start : start + 1000])
    finally:
        await client.aclose()


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name` over every series carrying `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


# --- load -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    requests: int  # answered within the measured window
    failures: int  # of those, not 2xx
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_seconds: float = math.nan  # the server's, all threads, over the measured window
    errors: int = 0  # connections that failed or waited longer than the timeout

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        """Less sensitive than throughput to the client competing for the same cores."""
        return self.cpu_seconds / self.requests * 1e6 if self.requests else math.nan


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its living descendants (uvicorn's
    workers), every thread's, dead threads' included (Linux /proc, 10 ms ticks; NaN
    elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return math.nan
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, fields 3 onwards
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in _children(pid))


def _children(pid: int) -> list[int]:
    children: list[int] = []
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            children += map(int, (task / "children").read_text().split())
    return children


@dataclass(frozen=True)
class Request:
    """One request of a load's cycle, as wrk sends it."""

    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None


def bearer_requests(path: str, tokens: Sequence[str]) -> list[Request]:
    """GET `path` once per token (as a bearer token), or once without any."""
    return [Request(path, headers=(("Authorization", f"Bearer {t}"),)) for t in tokens] or [
        Request(path)
    ]


class Load:
    """Closed-loop load: `connections` keep-alive connections, each cycling through a
    list of requests (`run`: GET one path with each of `tokens` as a bearer token, or
    with none). `cpus` pins wrk to those cores."""

    def __init__(
        self,
        client: str,
        connections: int,
        seconds: float,
        warmup: float,
        *,
        cpus: str | None = None,
    ) -> None:
        self.wrk = shutil.which("wrk") if client in ("auto", "wrk") else None
        if client == "wrk" and self.wrk is None:
            raise SystemExit("--client wrk: wrk is not on the PATH")
        self.connections = connections
        self.seconds = seconds
        self.warmup = warmup
        self.cpus = cpus

    def describe(self) -> str:
        if self.wrk:
            return f"wrk, 1 thread, {self.connections} connections"
        return f"Python asyncio client, {self.connections} connections"

    async def run(self, server: Server, path: str, tokens: Sequence[str] = ()) -> Result:
        pid = server.process.pid
        if self.wrk:
            return await self.run_requests(server, bearer_requests(path, tokens))
        return await _python_load(
            server.port, pid, path, tokens, self.connections, self.seconds, self.warmup
        )

    async def run_requests(self, server: Server, requests: Sequence[Request]) -> Result:
        """Any methods, headers and bodies: wrk only."""
        if self.wrk is None:
            raise SystemExit("this benchmark needs wrk (apt-get install wrk)")
        pid = server.process.pid
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(_wrk_script(requests))
        try:
            if self.warmup > 0:
                await self._wrk_once(server.port, script.name, self.warmup)
            cpu = cpu_seconds(pid)
            result = await self._wrk_once(server.port, script.name, self.seconds)
            return dataclasses.replace(result, cpu_seconds=cpu_seconds(pid) - cpu)
        finally:
            os.unlink(script.name)

    async def _wrk_once(self, port: int, script: str, seconds: float) -> Result:
        assert self.wrk is not None
        process = await asyncio.create_subprocess_exec(
            *pinned(self.cpus),
            self.wrk,
            "-t1",
            f"-c{self.connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",  # a slow answer is a latency to report, not an error
            "-s",
            script,
            f"http://127.0.0.1:{port}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        line = next((x for x in out.decode().splitlines() if x.startswith("HEXAHUB ")), None)
        if process.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed: {out.decode()} {err.decode()}")
        requests, micros, socket_errors, status_errors, p50, p99 = map(int, line.split()[1:])
        return Result(
            requests, status_errors, micros / 1e6, p50 / 1e3, p99 / 1e3, errors=socket_errors
        )


def _lua(text: str) -> str:
    """A Lua long string: no escaping needed for JSON bodies or tokens."""
    return f"[==[{text}]==]"


def _wrk_script(requests: Sequence[Request]) -> str:
    # wrk.format builds each request once; `done` prints exact figures for parsing.
    formatted = []
    for request in requests:
        headers = ", ".join(f"[ {_lua(k)} ] = {_lua(v)}" for k, v in request.headers)
        body = _lua(request.body) if request.body is not None else "nil"
        formatted.append(
            f"wrk.format({_lua(request.method)}, {_lua(request.path)}, {{{headers}}}, {body})"
        )
    return f"""
local requests = {{{", ".join(formatted)}}}
local i = 0
request = function()
  i = i % #requests + 1
  return requests[i]
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format("HEXAHUB %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


async def _python_load(
    port: int,
    pid: int,
    path: str,
    tokens: Sequence[str],
    connections: int,
    seconds: float,
    warmup: float,
) -> Result:
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    requests = [f"{head}Authorization: Bearer {token}\r\n\r\n".encode() for token in tokens] or [
        f"{head}\r\n".encode()
    ]
    latencies: list[float] = []
    failures = errors = 0
    measuring = stopping = False

    async def connection(first: int) -> None:
        nonlocal failures, errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = first
        try:
            while not stopping:
                request = requests[n % len(requests)]
                n += 1
                started = time.perf_counter()
                writer.write(request)
                answer = await reader.readuntil(b"\r\n\r\n")
                length = _LENGTH.search(answer)
                if length is None:
                    raise RuntimeError("answer without Content-Length")
                await reader.readexactly(int(length.group(1)))
                if measuring:
                    latencies.append(time.perf_counter() - started)
                    if answer[9:10] != b"2":  # "HTTP/1.1 200"
                        failures += 1
        except (OSError, asyncio.IncompleteReadError):
            if measuring:
                errors += 1
        finally:
            writer.close()

    tasks = [asyncio.create_task(connection(k)) for k in range(connections)]
    await asyncio.sleep(warmup)
    measuring = True
    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    measuring = False
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu
    stopping = True
    await asyncio.gather(*tasks)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Result(len(latencies), failures, elapsed, cuts[49] * 1000, cuts[98] * 1000, cpu, errors)


# --- alternating runs and their summary ---------------------------------------------------


def alternating(names: Sequence[str], repetitions: int) -> Iterator[tuple[int, str]]:
    """A B C, C B A, A B C, ...: every variant sees the same drift on average (a
    machine warming up, a neighbour's job) and none is always first after a pause."""
    for rep in range(repetitions):
        for name in names if rep % 2 == 0 else reversed(names):
            yield rep, name


@dataclass
class Runs:
    results: dict[str, list[Result]] = field(default_factory=lambda: defaultdict(list))

    def add(self, name: str, result: Result) -> None:
        self.results[name].append(result)

    def table(self, names: Iterable[str], baseline: str) -> str:
        """Medians over the repetitions; the change against `baseline` is the median (and
        range) of the per-repetition ratios, since neighbours in time share the
        machine's state."""
        base = self.results[baseline]
        lines = [
            f"  {'variant':<26} {'req/s (min-max)':>18} {'p50 ms':>7} {'p99 ms':>7}"
            f" {'CPU us/req':>10}  {'req/s vs baseline':>24}  {'CPU/req vs baseline':>24}"
        ]
        for name in names:
            runs = self.results[name]
            rates = [r.per_second for r in runs]
            spread = f"{statistics.median(rates):.0f} ({min(rates):.0f}-{max(rates):.0f})"
            p50 = statistics.median(r.p50_ms for r in runs)
            p99 = statistics.median(r.p99_ms for r in runs)
            cpu = statistics.median(r.cpu_us_per_request for r in runs)
            if name == baseline:
                rate_change = cpu_change = "-"
            else:
                pairs = list(zip(runs, base, strict=True))
                rate_change = _change([r.per_second / b.per_second for r, b in pairs])
                cpu_change = _change(
                    [r.cpu_us_per_request / b.cpu_us_per_request for r, b in pairs]
                )
            failures = sum(r.failures for r in runs)
            errors = sum(r.errors for r in runs)
            note = f"  {failures} not 2xx" if failures else ""
            note += f"  {errors} connection errors" if errors else ""
            lines.append(
                f"  {name:<26} {spread:>18} {p50:>7.2f} {p99:>7.2f} {cpu:>10.0f}"
                f"  {rate_change:>24}  {cpu_change:>24}{note}"
            )
        return "\n".join(lines)


def _change(ratios: list[float]) -> str:
    percent = [(ratio - 1) * 100 for ratio in ratios]
    if any(math.isnan(p) for p in percent):
        return "n/a"
    return f"{statistics.median(percent):+.1f} % ({min(percent):+.1f}..{max(percent):+.1f})"


# --- the OTLP/HTTP sink --------------------------------------------------------------------


@dataclass
class Sink:
    base: str
    process: subprocess.Popen[bytes]


@asynccontextmanager
async def otlp_sink() -> AsyncIterator[Sink]:
    """The sink in its own process (its parsing must not slow the load generator)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, _HERE, "otlp-sink", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(100):
                with suppress(httpx.HTTPError):
                    if (await client.get(f"{base}/stats")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        yield Sink(base, process)
    finally:
        process.terminate()
        process.wait(timeout=10)


async def sink_stats(sink: Sink) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{sink.base}/stats")
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


async def settled_sink_stats(sink: Sink, at_least: float = 6.0) -> dict[str, Any]:
    """Stats once the batch processor has exported what it held (it flushes at least
    every 5 s): wait `at_least`, then until two readings a second apart agree."""
    await asyncio.sleep(at_least)
    previous = await sink_stats(sink)
    while True:
        await asyncio.sleep(1)
        current = await sink_stats(sink)
        if current["spans"] == previous["spans"]:
            return current
        previous = current


class _SinkHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the exporter's session expects
    posts = 0
    byte_count = 0
    spans = 0
    # Spans are grouped by trace until the trace's root (the request span) arrives,
    # which is always last: a parent ends after its children.
    pending: Counter[bytes] = Counter()
    by_root: Counter[str] = Counter()
    roots: Counter[str] = Counter()
    lock = threading.Lock()  # one thread per connection: the exporter's and /stats

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            import gzip

            wire, body = len(body), gzip.decompress(body)
        else:
            wire = len(body)
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        cls = type(self)
        with cls.lock:
            cls.posts += 1
            cls.byte_count += wire
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        cls.spans += 1
                        if span.parent_span_id:
                            cls.pending[span.trace_id] += 1
                        else:
                            cls.roots[span.name] += 1
                            cls.by_root[span.name] += 1 + cls.pending.pop(span.trace_id, 0)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        cls = type(self)
        with cls.lock:
            stats = {
                "posts": cls.posts,
                "bytes": cls.byte_count,
                "spans": cls.spans,
                "requests": dict(cls.roots),
                "spans_by_request": dict(cls.by_root),
            }
        body = json.dumps(stats).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


def _run_sink(port: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _SinkHandler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] != ["otlp-sink"] or len(sys.argv) != 3:
        raise SystemExit("usage: harness.py otlp-sink PORT")
    _run_sink(int(sys.argv[2]))
