"""Contract of `AuditLog`, identical on every adapter; plus the database's own guard."""

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import exc as sa
from sqlalchemy import text

from application.ports.audit_log import AuditFilter
from domain.audit.entries import Outcome
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_audit_event,
    sequential_ids,
)

EVERYTHING = AuditFilter()


async def test_an_appended_event_reads_back_field_for_field(backend: Backend) -> None:
    first, second = sequential_ids(2)
    actor = uuid.uuid4()
    event = make_audit_event(
        first,
        action="role.updated",
        actor_id=actor,
        target_id="support",
        outcome=Outcome.FAILURE,
        occurred_at=T0.astimezone(PLUS_TWO),
        details={"reason": "conflict", "attempt": 3, "forced": False, "previous": None},
    )
    bare = replace(
        make_audit_event(second, action="user.login_failed", outcome=Outcome.FAILURE),
        ip=None,
        user_agent=None,
        request_id=None,
        occurred_at=T0 + timedelta(seconds=1),
    )
    original_details = dict(event.details)
    async with backend.new_uow() as uow:
        await uow.audit.append(event)
        await uow.audit.append(bare)
        event.details["added"] = "after append"  # the stored copy must not follow
        await uow.commit()

    async with backend.new_uow() as uow:
        listed = await uow.audit.list(filter=EVERYTHING, after=None, limit=10)

    assert listed == [bare, replace(event, details=original_details)]
    for found in listed:
        assert found.occurred_at.utcoffset() == timedelta(0)
        assert type(found.outcome) is Outcome
    listed[1].details["changed"] = "after read"  # nor may a read copy lead back
    async with backend.new_uow() as uow:
        again = await uow.audit.list(filter=EVERYTHING, after=None, limit=10)
    assert again[1].details == original_details


async def test_an_event_in_a_rolled_back_transaction_was_never_recorded(
    backend: Backend,
) -> None:
    (event_id,) = sequential_ids(1)
    async with backend.new_uow() as uow:
        await uow.audit.append(make_audit_event(event_id))
        assert len(await uow.audit.list(filter=EVERYTHING, after=None, limit=5)) == 1
    async with backend.new_uow() as uow:
        assert await uow.audit.list(filter=EVERYTHING, after=None, limit=5) == []


async def test_list_is_newest_first_in_pages_keyed_by_id(backend: Backend) -> None:
    ids = sequential_ids(7)
    async with backend.new_uow() as uow:
        for i, event_id in enumerate(ids):
            await uow.audit.append(make_audit_event(event_id, occurred_at=T0 + timedelta(i)))
        await uow.commit()

    pages: list[list[uuid.UUID]] = []
    after = None
    async with backend.new_uow() as uow:
        while page := await uow.audit.list(filter=EVERYTHING, after=after, limit=3):
            pages.append([e.id for e in page])
            after = page[-1].id
        assert await uow.audit.list(filter=EVERYTHING, after=None, limit=0) == []

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == list(reversed(ids))


async def test_list_filters_apply_before_the_page_limit(backend: Backend) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    ids = sequential_ids(8)
    rows = [
        (alice, "user.login", None, 0),
        (bob, "user.login", None, 1),
        (alice, "role.created", "support", 2),
        (None, "user.login_failed", str(alice), 3),
        (alice, "role.deleted", "support", 4),
        (bob, "role.created", "sales", 5),
        (alice, "user.login", None, 6),
        (bob, "user.updated", str(alice), 7),
    ]
    async with backend.new_uow() as uow:
        for event_id, (actor, action, target, hour) in zip(ids, rows, strict=True):
            await uow.audit.append(
                make_audit_event(
                    event_id,
                    actor_id=actor,
                    action=action,
                    target_id=target,
                    occurred_at=T0 + timedelta(hours=hour),
                )
            )
        await uow.commit()

    async def hours(limit: int = 50, after: uuid.UUID | None = None, **kwargs: object) -> list[int]:
        async with backend.new_uow() as uow:
            found = await uow.audit.list(
                filter=AuditFilter(**kwargs),  # type: ignore[arg-type]
                after=after,
                limit=limit,
            )
        return [ids.index(e.id) for e in found]

    assert await hours(actor_id=alice) == [6, 4, 2, 0]
    assert await hours(actor_id=alice, limit=2) == [6, 4]
    assert await hours(actor_id=alice, limit=2, after=ids[4]) == [2, 0]
    assert await hours(action="role.created") == [5, 2]
    assert await hours(target_id="support") == [4, 2]
    assert await hours(target_id=str(alice)) == [7, 3]
    assert await hours(action="user.login", actor_id=bob) == [1]
    assert await hours(actor_id=uuid.uuid4()) == []
    # `since` is inclusive, `until` exclusive, both compared as instants.
    assert await hours(since=T0 + timedelta(hours=5)) == [7, 6, 5]
    assert await hours(until=(T0 + timedelta(hours=2)).astimezone(PLUS_TWO)) == [1, 0]
    assert await hours(since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=4)) == [3, 2]
    assert await hours(actor_id=alice, since=T0 + timedelta(hours=1), limit=1) == [6]


async def test_the_database_itself_refuses_to_change_or_delete_audit_rows(
    backend: Backend,
) -> None:
    """Append-only holds even for a statement that bypasses the adapter."""
    if backend.engine is None:
        pytest.skip("the in-memory twin offers no way to change an event")
    (event_id,) = sequential_ids(1)
    async with backend.new_uow() as uow:
        await uow.audit.append(make_audit_event(event_id, action="user.login"))
        await uow.commit()

    for statement in (
        "UPDATE audit_events SET action = 'forged'",
        "DELETE FROM audit_events",
        "DELETE FROM audit_events WHERE action = 'no such action'",
    ):
        if backend.name == "sqlite" and "no such" in statement:
            continue  # SQLite triggers fire per row: nothing matched, nothing to refuse
        with pytest.raises(sa.IntegrityError, match="append-only"):
            async with backend.engine.begin() as connection:
                await connection.execute(text(statement))

    async with backend.new_uow() as uow:
        kept = await uow.audit.list(filter=EVERYTHING, after=None, limit=5)
    assert [(e.id, e.action) for e in kept] == [(event_id, "user.login")]
