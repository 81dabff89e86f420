"""The test twins' own promises: FixedClock control, deterministic ids, fake hash format."""

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.id_generator import SequentialIdGenerator
from adapters.memory.password_hasher import FakePasswordHasher

START = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def test_a_fixed_clock_stands_still_until_moved() -> None:
    clock = FixedClock(START)
    assert clock.now() == clock.now() == START
    assert clock.advance(timedelta(minutes=5)) == START + timedelta(minutes=5)
    assert clock.advance(seconds=1.5) == START + timedelta(minutes=5, seconds=1.5)
    assert clock.now() == START + timedelta(minutes=5, seconds=1.5)
    clock.set(START)
    assert clock.now() == START


@pytest.mark.parametrize(
    "bad", [datetime(2030, 1, 1), datetime(2030, 1, 1, tzinfo=timezone(timedelta(hours=2)))]
)
def test_a_fixed_clock_only_takes_utc(bad: datetime) -> None:
    with pytest.raises(ValueError, match="UTC"):
        FixedClock(bad)
    with pytest.raises(ValueError, match="UTC"):
        FixedClock().set(bad)


def test_sequential_ids_are_the_same_every_run() -> None:
    first, second = SequentialIdGenerator(), SequentialIdGenerator()
    assert [first.new_id() for _ in range(3)] == [second.new_id() for _ in range(3)]


def test_sequential_ids_carry_the_start_time_like_a_uuid7() -> None:
    start_ms = int(START.timestamp() * 1000)
    new = SequentialIdGenerator(start_ms=start_ms).new_id()
    assert new.int >> 80 == start_ms


async def test_fake_hashes_show_scheme_cost_salt_and_digest() -> None:
    password_hash = await FakePasswordHasher(cost=3).hash("pw")
    assert re.fullmatch(r"fake\$c=3\$[0-9a-f]{16}\$[0-9a-f]{64}", password_hash)


def test_a_fake_hasher_cost_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="cost"):
        FakePasswordHasher(cost=0)
