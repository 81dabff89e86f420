"""Contract of `MailOutbox`, identical on every adapter."""

import asyncio
from dataclasses import replace
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import text

from adapters.memory import mail_outbox as memory_outbox
from adapters.sqlalchemy import mail_outbox as sql_outbox
from domain.mail.messages import OutboxMail
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_mail,
)

LEASE = 60


async def store_mail(backend: Backend, *mails: OutboxMail) -> None:
    async with backend.new_uow() as uow:
        for mail in mails:
            await uow.outbox.add(mail)
        await uow.commit()


async def claim(
    backend: Backend, *, at: timedelta = timedelta(0), limit: int = 10, commit: bool = True
) -> list[OutboxMail]:
    async with backend.new_uow() as uow:
        claimed = await uow.outbox.claim(now=T0 + at, lease_seconds=LEASE, limit=limit)
        if commit:
            await uow.commit()
    return claimed


async def test_claim_hands_out_due_mail_oldest_first_and_leases_it(backend: Backend) -> None:
    newer = make_mail(to="bob@example.com", created_at=T0 + timedelta(seconds=2))
    older = make_mail(created_at=(T0 + timedelta(seconds=1)).astimezone(PLUS_TWO))
    await store_mail(backend, newer, older)

    claimed = await claim(backend, at=timedelta(minutes=1))

    lease_end = T0 + timedelta(minutes=1, seconds=LEASE)
    assert claimed == [
        replace(older, attempts=1, next_attempt_at=lease_end),
        replace(newer, attempts=1, next_attempt_at=lease_end),
    ]
    for mail in claimed:
        assert mail.created_at.utcoffset() == timedelta(0)
        assert mail.next_attempt_at is not None
        assert mail.next_attempt_at.utcoffset() == timedelta(0)


async def test_claimed_mail_is_due_again_only_when_the_lease_ends(backend: Backend) -> None:
    mail = make_mail()
    await store_mail(backend, mail)

    assert [m.id for m in await claim(backend)] == [mail.id]
    assert await claim(backend, at=timedelta(seconds=LEASE - 1)) == []
    again = await claim(backend, at=timedelta(seconds=LEASE))
    assert [(m.id, m.attempts) for m in again] == [(mail.id, 2)]


async def test_claim_respects_the_limit(backend: Backend) -> None:
    mails = [make_mail(created_at=T0 + timedelta(seconds=i)) for i in range(5)]
    await store_mail(backend, *reversed(mails))

    first = await claim(backend, limit=2)
    rest = await claim(backend, limit=10)

    assert [m.id for m in first] == [m.id for m in mails[:2]]
    assert [m.id for m in rest] == [m.id for m in mails[2:]]
    assert await claim(backend, limit=0) == []


async def test_an_uncommitted_claim_leaves_the_mail_due(backend: Backend) -> None:
    mail = make_mail()
    await store_mail(backend, mail)
    assert len(await claim(backend, commit=False)) == 1
    assert [(m.id, m.attempts) for m in await claim(backend)] == [(mail.id, 1)]


async def test_mail_scheduled_for_later_waits(backend: Backend) -> None:
    mail = make_mail(next_attempt_at=T0 + timedelta(minutes=5))
    await store_mail(backend, mail)
    assert await claim(backend, at=timedelta(minutes=4)) == []
    assert [m.id for m in await claim(backend, at=timedelta(minutes=5))] == [mail.id]


async def test_sent_mail_is_never_claimed_again_and_loses_its_body(backend: Backend) -> None:
    mail, other = make_mail(), make_mail(created_at=T0 + timedelta(seconds=1))
    await store_mail(backend, mail, other)
    await claim(backend)
    async with backend.new_uow() as uow:
        await uow.outbox.mark_sent(mail.id, now=T0 + timedelta(seconds=5))
        await uow.commit()

    later = await claim(backend, at=timedelta(days=1))
    assert [m.id for m in later] == [other.id]
    assert await _stored_body(backend, mail.id) is None
    assert await _stored_body(backend, other.id) == other.message.text


async def test_failed_mail_is_retried_when_asked_and_given_up_otherwise(
    backend: Backend,
) -> None:
    retried, abandoned = make_mail(), make_mail(created_at=T0 + timedelta(seconds=1))
    await store_mail(backend, retried, abandoned)
    await claim(backend)
    async with backend.new_uow() as uow:
        await uow.outbox.mark_failed(
            retried.id, error="421 " + "x" * 600, next_attempt_at=T0 + timedelta(minutes=10)
        )
        await uow.outbox.mark_failed(abandoned.id, error="550 no such user", next_attempt_at=None)
        await uow.commit()

    assert await claim(backend, at=timedelta(minutes=9)) == []
    (again,) = await claim(backend, at=timedelta(minutes=10))
    assert again.id == retried.id
    assert again.attempts == 2
    assert again.last_error == ("421 " + "x" * 600)[:500]
    # The retried mail's lease runs out again; the abandoned one never comes back.
    assert [m.id for m in await claim(backend, at=timedelta(days=30))] == [retried.id]


async def test_mail_claimed_too_often_is_never_claimed_again(backend: Backend) -> None:
    assert memory_outbox.MAX_CLAIMS == sql_outbox.MAX_CLAIMS
    cap = sql_outbox.MAX_CLAIMS
    worn = make_mail(attempts=cap, next_attempt_at=T0)
    last_chance = make_mail(attempts=cap - 1, next_attempt_at=T0)
    await store_mail(backend, worn, last_chance)
    assert [m.id for m in await claim(backend)] == [last_chance.id]
    assert await claim(backend, at=timedelta(days=1)) == []


async def test_concurrent_senders_each_claim_a_mail_once(backend: Backend) -> None:
    mails = [make_mail(created_at=T0 + timedelta(milliseconds=i)) for i in range(30)]
    await store_mail(backend, *mails)

    async def sender() -> list[UUID]:
        taken: list[UUID] = []
        while True:
            async with backend.new_uow() as uow:
                batch = await uow.outbox.claim(now=T0, lease_seconds=LEASE, limit=4)
                await asyncio.sleep(0.005)  # "sending" while the others claim
                await uow.commit()
            if not batch:
                return taken
            taken.extend(m.id for m in batch)

    results = await asyncio.gather(sender(), sender(), sender())

    everything = [mail_id for taken in results for mail_id in taken]
    assert sorted(everything) == sorted(m.id for m in mails)  # each exactly once
    assert len(set(everything)) == len(everything)


async def _stored_body(backend: Backend, mail_id: UUID) -> str | None:
    """Looks behind the port: nothing in it reads a mail back."""
    if backend.store is not None:
        text_ = backend.store.committed.outbox[mail_id].message.text
        return text_ or None
    if backend.engine is None:
        pytest.fail("a backend without a store or an engine")
    async with backend.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT body FROM mail_outbox WHERE id = :id"),
            {"id": mail_id.hex if backend.name == "sqlite" else mail_id},
        )
        body = result.scalar_one()
    return None if body is None else str(body)
