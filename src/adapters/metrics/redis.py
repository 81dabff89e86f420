"""Redis command latency for Prometheus.

`instrument_redis` shadows two methods on the one client instance the composition root
builds: `execute_command`, through which every command passes (scripts arrive as
`EVALSHA`), and `pipeline`, whose `execute` is timed as a whole as `command="PIPELINE"`:
a pipeline is one round trip, and timing its queued commands one by one would measure
nothing. The class methods are looked up at each call, so instrumentation that patches
the class (OpenTelemetry) still runs, before or after this was applied.

`command` is the command name redis-py sends (`GET`, `EVALSHA`, `SCRIPT LOAD`), never a
key or argument. The names come from this code base, not from callers; past
`_MAX_COMMANDS` distinct names the rest share `OTHER`, so a mistake cannot mint series
without bound.
"""

import time
from typing import Any, TypeVar

from prometheus_client import Histogram

# 0.1 ms to 2.5 s: a local round trip up to the client's socket timeout.
COMMAND_DURATION = Histogram(
    "hexahub_redis_command_duration_seconds",
    "Time from sending a Redis command (or a whole pipeline) to its reply.",
    ["command"],
    buckets=(
        *(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025),
        *(0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    ),
)
PIPELINE = "PIPELINE"
OTHER = "OTHER"
_MAX_COMMANDS = 64
_by_command: dict[str, Any] = {}

Client = TypeVar("Client")


def instrument_redis(client: Client) -> Client:
    """Time every command and pipeline `client` sends. Returns the client, for a
    one-line hook; `None` (no Redis configured) passes through."""
    if client is None:
        return client
    cls: Any = type(client)

    async def execute_command(*args: Any, **options: Any) -> Any:
        started = time.perf_counter()
        try:
            return await cls.execute_command(client, *args, **options)
        finally:
            _child(args[0] if args else None).observe(time.perf_counter() - started)

    def pipeline(*args: Any, **kwargs: Any) -> Any:
        pipe = cls.pipeline(client, *args, **kwargs)
        pipe_cls: Any = type(pipe)

        async def execute(*a: Any, **kw: Any) -> Any:
            started = time.perf_counter()
            try:
                return await pipe_cls.execute(pipe, *a, **kw)
            finally:
                _child(PIPELINE).observe(time.perf_counter() - started)

        pipe.execute = execute
        return pipe

    # On the instance, not the class: other clients (tests, the CLI) stay as they are.
    target: Any = client
    target.execute_command = execute_command
    target.pipeline = pipeline
    return client


def _child(name: object) -> Any:
    key = name if isinstance(name, str) else OTHER
    child = _by_command.get(key)
    if child is None:
        if len(_by_command) >= _MAX_COMMANDS:
            return COMMAND_DURATION.labels(command=OTHER)
        child = _by_command[key] = COMMAND_DURATION.labels(command=key.upper())
    return child
