"""Argon2PasswordHasher: OWASP floor, argon2id output, off-loop hashing, fail-fast busy."""

import asyncio
import itertools
import time
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher, Type

from adapters.argon2.password_hasher import Argon2PasswordHasher
from application.errors import HasherBusyError

# Slow enough (about 0.1 s a hash) that a hash run on the loop would be unmistakable.
SLOW = {"memory_cost": 19_456, "time_cost": 10}


@pytest.fixture
def made() -> Iterator[list[Argon2PasswordHasher]]:
    hashers: list[Argon2PasswordHasher] = []
    yield hashers
    for hasher in hashers:
        hasher.shutdown()


@pytest.mark.parametrize(
    ("memory_cost", "time_cost", "parallelism"),
    [
        (19_455, 2, 1),  # just under the headline minimum
        (19_456, 1, 1),  # m=19 MiB needs t=2
        (47_103, 1, 1),  # t=1 needs m=46 MiB
        (7_167, 5, 1),  # m=7 MiB is the smallest listed memory
        (9_216, 3, 1),  # m=9 MiB needs t=4
        (1_000_000, 1, 0),  # parallelism must be at least 1
        (65_536, 0, 1),
    ],
)
def test_parameters_below_the_owasp_minimum_are_refused(
    memory_cost: int, time_cost: int, parallelism: int
) -> None:
    with pytest.raises(ValueError, match="OWASP"):
        Argon2PasswordHasher(memory_cost=memory_cost, time_cost=time_cost, parallelism=parallelism)


@pytest.mark.parametrize(
    ("memory_cost", "time_cost"),
    [(47_104, 1), (19_456, 2), (12_288, 3), (9_216, 4), (7_168, 5), (65_536, 3), (7_168, 9)],
)
def test_each_owasp_equivalent_and_anything_stronger_is_accepted(
    made: list[Argon2PasswordHasher], memory_cost: int, time_cost: int
) -> None:
    made.append(Argon2PasswordHasher(memory_cost=memory_cost, time_cost=time_cost))


async def test_defaults_produce_argon2id_at_the_owasp_minimum(
    made: list[Argon2PasswordHasher],
) -> None:
    hasher = Argon2PasswordHasher()
    made.append(hasher)
    assert (await hasher.hash("pw")).startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_configured_parameters_are_the_ones_used(made: list[Argon2PasswordHasher]) -> None:
    hasher = Argon2PasswordHasher(memory_cost=47_104, time_cost=1, parallelism=2)
    made.append(hasher)
    assert (await hasher.hash("pw")).startswith("$argon2id$v=19$m=47104,t=1,p=2$")


async def test_rehash_is_flagged_when_any_parameter_rises(
    made: list[Argon2PasswordHasher],
) -> None:
    old = Argon2PasswordHasher()
    more_memory = Argon2PasswordHasher(memory_cost=47_104, time_cost=2)
    more_lanes = Argon2PasswordHasher(parallelism=2)
    made.extend([old, more_memory, more_lanes])
    old_hash = await old.hash("pw")
    assert more_memory.needs_rehash(old_hash) is True
    assert more_lanes.needs_rehash(old_hash) is True
    assert old.needs_rehash(old_hash) is False


async def test_a_hash_from_another_argon2_variant_is_flagged_for_rehash(
    made: list[Argon2PasswordHasher],
) -> None:
    argon2i = PasswordHasher(memory_cost=19_456, time_cost=2, parallelism=1, type=Type.I)
    hasher = Argon2PasswordHasher()
    made.append(hasher)
    legacy = argon2i.hash("pw")
    assert await hasher.verify(legacy, "pw") is True
    assert hasher.needs_rehash(legacy) is True


async def test_the_event_loop_keeps_running_while_four_hashes_run(
    made: list[Argon2PasswordHasher],
) -> None:
    hasher = Argon2PasswordHasher(**SLOW, max_concurrency=4)
    made.append(hasher)
    started = time.perf_counter()
    await hasher.hash("warm-up")
    one_hash = time.perf_counter() - started

    ticks: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.005)

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    hashes = await asyncio.gather(*(hasher.hash(f"pw{i}") for i in range(4)))
    done.set()
    await ticking

    assert len(set(hashes)) == 4
    # On the loop, each hash would freeze the ticker for a whole hash.
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert len(ticks) >= 10
    assert max(gaps) < one_hash


async def test_a_saturated_hasher_refuses_at_once_with_busy(
    made: list[Argon2PasswordHasher],
) -> None:
    hasher = Argon2PasswordHasher(**SLOW, max_concurrency=1, max_waiting=1, queue_timeout=10)
    made.append(hasher)
    running = asyncio.create_task(hasher.hash("a"))
    ahead = asyncio.create_task(hasher.hash("b"))  # in the pool, behind the running one
    queued = asyncio.create_task(hasher.hash("c"))
    await asyncio.sleep(0)

    started = time.perf_counter()
    with pytest.raises(HasherBusyError):
        await hasher.verify("$argon2id$whatever", "c")
    with pytest.raises(HasherBusyError):
        await hasher.verify_dummy("d")
    assert time.perf_counter() - started < 0.05

    await asyncio.gather(running, ahead, queued)  # the admitted work still completes
    assert await hasher.verify(await running, "a") is True


async def test_waiting_past_the_queue_timeout_is_busy(made: list[Argon2PasswordHasher]) -> None:
    hasher = Argon2PasswordHasher(**SLOW, max_concurrency=1, max_waiting=8, queue_timeout=0.01)
    made.append(hasher)
    running = asyncio.create_task(hasher.hash("a"))
    ahead = asyncio.create_task(hasher.hash("b"))
    await asyncio.sleep(0)
    with pytest.raises(HasherBusyError):
        await hasher.hash("c")
    await asyncio.gather(running, ahead)


async def test_verify_dummy_costs_a_real_verification(made: list[Argon2PasswordHasher]) -> None:
    hasher = Argon2PasswordHasher()
    made.append(hasher)
    real_hash = await hasher.hash("pw")
    await hasher.verify_dummy("warm-up")  # the dummy hash is made on first use

    real: list[float] = []
    dummy: list[float] = []
    for _ in range(3):
        started = time.perf_counter()
        await hasher.verify(real_hash, "wrong")
        real.append(time.perf_counter() - started)
        started = time.perf_counter()
        await hasher.verify_dummy("wrong")
        dummy.append(time.perf_counter() - started)
    assert min(dummy) > 0.5 * min(real)
