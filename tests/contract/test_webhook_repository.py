"""Contract of `WebhookRepository`, identical on every adapter."""

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import text

from application.errors import WebhookNotFoundError
from domain.webhooks.webhooks import DeliveryOutcome, Webhook, WebhookDelivery
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    assert_same_fields,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def make_webhook(url: str = "https://hooks.example.com/a", **changes: object) -> Webhook:
    webhook = Webhook.register(
        id=uuid.uuid4(),
        owner_id=uuid.uuid4(),
        url=url,
        events=("user.created", "user.updated"),
        description="billing",
        secret=SECRET,
        now=T0.astimezone(PLUS_TWO),
    )
    for name, value in changes.items():
        setattr(webhook, name, value)
    return webhook


def make_delivery(
    webhook: Webhook, *, event_id: uuid.UUID | None = None, due_in: float = 0
) -> WebhookDelivery:
    return WebhookDelivery(
        id=uuid.uuid4(),
        webhook_id=webhook.id,
        event_id=event_id or uuid.uuid4(),
        event="user.created",
        payload={"id": "e", "name": "user.created", "data": {"n": 1}},
        attempt=0,
        status_code=None,
        outcome=DeliveryOutcome.PENDING,
        created_at=T0,
        next_attempt_at=T0 + timedelta(seconds=due_in),
    )


async def store(backend: Backend, *webhooks: Webhook) -> None:
    async with backend.new_uow() as uow:
        for webhook in webhooks:
            await uow.webhooks.add(webhook)
        await uow.commit()


async def test_a_stored_webhook_reads_back_field_for_field(backend: Backend) -> None:
    webhook = make_webhook()
    await store(backend, webhook)
    async with backend.new_uow() as uow:
        found = await uow.webhooks.get(webhook.id)
        assert await uow.webhooks.get(uuid.uuid4()) is None
    assert found is not None
    assert_same_fields(webhook, found)


async def test_the_secret_is_encrypted_at_rest(backend: Backend) -> None:
    if backend.engine is None:
        pytest.skip("nothing at rest in memory")
    await store(backend, make_webhook())
    async with backend.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT secret FROM webhooks"))).scalar_one()
    assert SECRET.encode() not in bytes(stored)


async def test_update_changes_the_editable_fields_only(backend: Backend) -> None:
    webhook = make_webhook()
    await store(backend, webhook)
    webhook.change(
        now=T0 + timedelta(hours=1), url="https://hooks.example.com/b", events=("*",), active=False
    )
    webhook.consecutive_failures = 7
    async with backend.new_uow() as uow:
        await uow.webhooks.update(webhook)
        await uow.commit()
    async with backend.new_uow() as uow:
        found = await uow.webhooks.get(webhook.id)
        with pytest.raises(WebhookNotFoundError):
            await uow.webhooks.update(make_webhook())
    assert found is not None
    assert_same_fields(webhook, found)


async def test_all_lists_newest_first_and_delete_takes_the_deliveries(backend: Backend) -> None:
    older = make_webhook()
    newer = make_webhook(created_at=T0 + timedelta(minutes=1))
    await store(backend, older, newer)
    async with backend.new_uow() as uow:
        await uow.webhooks.enqueue([make_delivery(older)])
        await uow.commit()
    async with backend.new_uow() as uow:
        assert [w.id for w in await uow.webhooks.all()] == [newer.id, older.id]
        await uow.webhooks.delete(older.id)
        await uow.commit()
    async with backend.new_uow() as uow:
        assert [w.id for w in await uow.webhooks.all()] == [newer.id]
        assert await uow.webhooks.deliveries(older.id, limit=10) == []


async def test_an_event_is_queued_once_per_webhook(backend: Backend) -> None:
    webhook = make_webhook()
    await store(backend, webhook)
    event = uuid.uuid4()
    for _ in range(2):  # the relay hands an event over at least once
        async with backend.new_uow() as uow:
            await uow.webhooks.enqueue([make_delivery(webhook, event_id=event)])
            await uow.commit()
    async with backend.new_uow() as uow:
        [delivery] = await uow.webhooks.deliveries(webhook.id, limit=10)
    assert delivery.event_id == event


async def test_claiming_leases_what_is_due_and_saving_records_the_attempt(
    backend: Backend,
) -> None:
    webhook = make_webhook()
    await store(backend, webhook)
    due, later = make_delivery(webhook), make_delivery(webhook, due_in=60)
    async with backend.new_uow() as uow:
        await uow.webhooks.enqueue([due, later])
        await uow.commit()
    now = T0 + timedelta(seconds=1)
    async with backend.new_uow() as uow:
        [claimed] = await uow.webhooks.claim_due(now=now, lease_seconds=30, limit=10)
        await uow.commit()
    assert claimed.id == due.id
    assert_same_fields(due, claimed)
    async with backend.new_uow() as uow:  # leased: not handed out again meanwhile
        assert await uow.webhooks.claim_due(now=now, lease_seconds=30, limit=10) == []
    claimed.failed(500, retry_at=now + timedelta(seconds=5))
    async with backend.new_uow() as uow:
        await uow.webhooks.save_delivery(claimed)
        await uow.commit()
    async with backend.new_uow() as uow:
        [again] = await uow.webhooks.claim_due(
            now=now + timedelta(seconds=5), lease_seconds=30, limit=10
        )
        await uow.commit()
    assert (again.id, again.attempt, again.status_code, again.outcome) == (
        due.id,
        1,
        500,
        DeliveryOutcome.RETRYING,
    )
    again.succeeded(200)
    async with backend.new_uow() as uow:
        await uow.webhooks.save_delivery(again)
        await uow.commit()
    async with backend.new_uow() as uow:
        # Delivered: never due again; the later one is, in its time.
        claimed_later = await uow.webhooks.claim_due(
            now=now + timedelta(hours=1), lease_seconds=30, limit=10
        )
        await uow.commit()
    assert [d.id for d in claimed_later] == [later.id]
    async with backend.new_uow() as uow:
        newest_first = await uow.webhooks.deliveries(webhook.id, limit=10)
        older_than_newest = await uow.webhooks.deliveries(
            webhook.id, limit=10, before=newest_first[0].id
        )
    assert sorted(d.id for d in newest_first) == sorted([due.id, later.id])
    assert [d.id for d in newest_first] == sorted((d.id for d in newest_first), reverse=True)
    assert [d.id for d in older_than_newest] == [newest_first[1].id]
    [delivered] = [d for d in newest_first if d.id == due.id]
    assert (delivered.attempt, delivered.status_code, delivered.outcome) == (
        2,
        200,
        DeliveryOutcome.SUCCEEDED,
    )
