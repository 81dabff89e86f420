"""The sampled gauges keep their last value through an outage; statements and Redis
commands are labelled by a fixed vocabulary."""

from typing import Any

import pytest
from prometheus_client import REGISTRY

from adapters.metrics.database import operation_of
from adapters.metrics.redis import instrument_redis
from adapters.metrics.sessions import sample_sessions
from application.errors import StorageUnavailableError


def active_sessions() -> float | None:
    return REGISTRY.get_sample_value("hexahub_active_sessions")


def redis_count(command: str) -> float:
    value = REGISTRY.get_sample_value(
        "hexahub_redis_command_duration_seconds_count", {"command": command}
    )
    return value or 0.0


async def test_an_outage_keeps_the_last_session_count() -> None:
    async def count(result: int | Exception) -> int:
        if isinstance(result, Exception):
            raise result
        return result

    await sample_sessions(lambda: count(7))
    assert active_sessions() == 7
    await sample_sessions(lambda: count(StorageUnavailableError()))
    assert active_sessions() == 7
    await sample_sessions(lambda: count(RuntimeError("a bug")))
    assert active_sessions() == 7
    await sample_sessions(lambda: count(3))
    assert active_sessions() == 3


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("SELECT users.id FROM users", "select"),
        ("\n  insert INTO sessions VALUES (?)", "insert"),
        ("UPDATE refresh_tokens SET rotated_at=$1", "update"),
        ("DELETE FROM roles WHERE NOT builtin", "delete"),
        ("WITH recent AS (SELECT 1) SELECT * FROM recent", "other"),
        ("BEGIN IMMEDIATE", "other"),
        ("selected", "other"),
        ("", "other"),
    ],
)
def test_a_statement_is_labelled_by_its_first_keyword(statement: str, operation: str) -> None:
    assert operation_of(statement) == operation


class FakePipeline:
    def __init__(self) -> None:
        self.queued: list[tuple[Any, ...]] = []

    def set(self, *args: Any) -> None:
        self.queued.append(("SET", *args))

    async def execute(self) -> list[Any]:
        return [True for _ in self.queued]


class FakeRedis:
    """Stands for `redis.asyncio.Redis`: every command goes through `execute_command`."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if args[0] == "FAIL":
            raise ConnectionError("refused")
        return f"reply to {args[0]}"

    async def get(self, key: str) -> Any:
        return await self.execute_command("GET", key)

    def pipeline(self, transaction: bool = True) -> FakePipeline:
        return FakePipeline()


async def test_commands_and_pipelines_are_timed_by_name_never_by_key() -> None:
    client = instrument_redis(FakeRedis())
    before = {name: redis_count(name) for name in ("GET", "SCRIPT LOAD", "FAIL", "PIPELINE")}

    assert await client.get("hexahub:secret-key") == "reply to GET"
    assert await client.execute_command("script load", "return 1") == "reply to script load"
    with pytest.raises(ConnectionError):
        await client.execute_command("FAIL")
    pipe = client.pipeline(transaction=False)
    pipe.set("a", 1)
    pipe.set("b", 1)
    assert await pipe.execute() == [True, True]

    moved = {name: redis_count(name) - before[name] for name in before}
    assert moved == {"GET": 1, "SCRIPT LOAD": 1, "FAIL": 1, "PIPELINE": 1}
    labels = {
        sample.labels["command"]
        for family in REGISTRY.collect()
        if family.name == "hexahub_redis_command_duration_seconds"
        for sample in family.samples
    }
    assert not any("hexahub:" in label for label in labels)


async def test_a_class_patched_later_still_runs_under_the_timing() -> None:
    client = instrument_redis(FakeRedis())
    calls: list[str] = []
    original = FakeRedis.execute_command

    async def traced(self: FakeRedis, *args: Any, **options: Any) -> Any:
        calls.append(args[0])
        return await original(self, *args, **options)

    FakeRedis.execute_command = traced  # type: ignore[method-assign]  # as OpenTelemetry does
    try:
        await client.get("k")
    finally:
        FakeRedis.execute_command = original  # type: ignore[method-assign]
    assert calls == ["GET"]


def test_no_client_passes_through() -> None:
    assert instrument_redis(None) is None
