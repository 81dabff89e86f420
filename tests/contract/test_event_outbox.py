"""Contract of `EventOutbox`, identical on every adapter: events kept as written, claimed
in id order by one relay at a time, relayed once, readable after, pruned when old."""

import asyncio
import uuid
from datetime import timedelta

from adapters.system.id_generator import Uuid7IdGenerator
from application.ports.event_outbox import OutboxEvent
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
)

LEASE = 30.0
_ids = Uuid7IdGenerator()


def make_event(n: int = 0, **changes: object) -> OutboxEvent:
    values: dict[str, object] = {
        "id": _ids.new_id(),
        "name": "user.updated",
        "topic": "users",
        "aggregate_id": str(uuid.UUID(int=n)),
        "account_id": uuid.UUID(int=n),
        "data": {"id": str(uuid.UUID(int=n)), "roles": ["admin", "user"], "full_name": None},
        "facts": {"user_id": str(uuid.UUID(int=n)), "fields": ["full_name"]},
        "occurred_at": T0 + timedelta(seconds=n),
    }
    values.update(changes)
    return OutboxEvent(**values)  # type: ignore[arg-type]


async def add(backend: Backend, *events: OutboxEvent) -> None:
    async with backend.new_uow() as uow:
        await uow.events.add(events)
        await uow.commit()


async def claim(
    backend: Backend, *, at: timedelta = timedelta(0), limit: int = 10
) -> list[OutboxEvent]:
    async with backend.new_uow() as uow:
        claimed = await uow.events.claim(now=T0 + at, lease_seconds=LEASE, limit=limit)
        await uow.commit()
    return claimed


async def relayed(backend: Backend, events: list[OutboxEvent], *, at: timedelta) -> None:
    async with backend.new_uow() as uow:
        await uow.events.mark_relayed([e.id for e in events], now=T0 + at)
        await uow.commit()


async def everything(backend: Backend) -> list[OutboxEvent]:
    async with backend.new_uow() as uow:
        return await uow.events.after(None, limit=1000)


async def test_an_event_reads_back_as_written(backend: Backend) -> None:
    event = make_event(1, occurred_at=(T0 + timedelta(seconds=1)).astimezone(PLUS_TWO))
    await add(backend, event)
    [stored] = await everything(backend)
    assert stored == event
    assert stored.occurred_at.utcoffset() == timedelta(0)
    assert stored.relayed_at is None


async def test_an_event_added_in_a_rolled_back_transaction_is_gone(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        await uow.events.add([make_event()])
    assert await everything(backend) == []


async def test_claims_take_the_oldest_unrelayed_events_in_id_order(backend: Backend) -> None:
    first, second, third = make_event(1), make_event(2), make_event(3)
    await add(backend, third, first)  # added out of order
    await add(backend, second)

    assert [e.id for e in await claim(backend, limit=2)] == [first.id, second.id]


async def test_a_leased_head_is_nobody_elses_until_its_lease_ends(backend: Backend) -> None:
    first, second = make_event(1), make_event(2)
    await add(backend, first, second)
    assert [e.id for e in await claim(backend, limit=1)] == [first.id]

    # The next event is free, but taking it would let it overtake the leased one.
    assert await claim(backend, at=timedelta(seconds=LEASE - 1)) == []
    # The first relay died: after its lease, the head is claimed again, in order.
    assert [e.id for e in await claim(backend, at=timedelta(seconds=LEASE + 1))] == [
        first.id,
        second.id,
    ]


async def test_concurrent_claims_hand_each_event_to_one_relay(backend: Backend) -> None:
    events = [make_event(n) for n in range(20)]
    await add(backend, *events)

    batches = await asyncio.gather(*(claim(backend, limit=20) for _ in range(5)))

    assert sorted(len(batch) for batch in batches) == [0, 0, 0, 0, 20]


async def test_a_claim_never_passes_over_an_id_drawn_by_a_transaction_still_open(
    backend: Backend,
) -> None:
    async def write_later() -> OutboxEvent:
        async with backend.new_uow() as uow:
            await uow.events.hold_order()
            later = make_event(2)  # its id drawn after the open transaction's
            await uow.events.add([later])
            await uow.commit()
        return later

    async with backend.new_uow() as uow:
        await uow.events.hold_order()
        earlier = make_event(1)
        await uow.events.add([earlier])
        # Another writer draws a later id and commits (on SQLite and in memory it
        # waits for this transaction instead); then a relay claims.
        writing = asyncio.create_task(write_later())
        await asyncio.wait([writing], timeout=0.3)
        claiming = asyncio.create_task(claim(backend))
        await asyncio.sleep(0.3)
        await uow.commit()
    later = await writing
    claimed = await claiming

    assert [e.id for e in claimed] == [earlier.id, later.id][: len(claimed)]
    assert claimed, "the claim saw the open transaction's event once it committed"


async def test_a_released_claim_is_claimed_again_at_once(backend: Backend) -> None:
    await add(backend, make_event(1))
    [claimed] = await claim(backend)
    async with backend.new_uow() as uow:
        await uow.events.release([claimed.id])
        await uow.commit()
    assert [e.id for e in await claim(backend)] == [claimed.id]


async def test_relayed_events_are_never_claimed_again_and_stay_readable(backend: Backend) -> None:
    first, second = make_event(1), make_event(2)
    await add(backend, first, second)
    await relayed(backend, await claim(backend, limit=1), at=timedelta(seconds=5))

    assert [e.id for e in await claim(backend, at=timedelta(hours=1))] == [second.id]
    kept = {e.id: e.relayed_at for e in await everything(backend)}
    assert kept == {first.id: T0 + timedelta(seconds=5), second.id: None}


async def test_after_reads_what_followed_an_event_oldest_first(backend: Backend) -> None:
    events = [make_event(n) for n in range(5)]
    await add(backend, *events)
    async with backend.new_uow() as uow:
        after = await uow.events.after(events[1].id, limit=2)
    assert [e.id for e in after] == [events[2].id, events[3].id]


async def test_prune_deletes_old_relayed_events_only(backend: Backend) -> None:
    old_relayed, old_waiting, recent = make_event(1), make_event(2), make_event(3600)
    await add(backend, old_relayed, old_waiting, recent)
    await relayed(backend, [old_relayed, recent], at=timedelta(hours=2))

    async with backend.new_uow() as uow:
        gone = await uow.events.prune(before=T0 + timedelta(minutes=30), limit=100)
        await uow.commit()

    assert gone == 1
    assert {e.id for e in await everything(backend)} == {old_waiting.id, recent.id}
