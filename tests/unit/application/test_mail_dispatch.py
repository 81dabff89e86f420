"""MailDispatcher on the in-memory outbox, notifier and a FixedClock: who gets mail,
when a failed mail comes back, when it is given up, and the background loop."""

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.clock import FixedClock
from adapters.memory.notifier import InMemoryNotifier
from application.errors import NotifierUnavailableError, StorageUnavailableError
from application.mail.dispatch import MailDispatcher
from application.ports.notifier import Notifier
from application.ports.transaction import Transaction
from domain.mail.messages import MailMessage, OutboxMail


@dataclass
class World:
    store: InMemoryStore = field(default_factory=InMemoryStore)
    clock: FixedClock = field(default_factory=FixedClock)
    notifier: InMemoryNotifier = field(default_factory=InMemoryNotifier)
    errors: list[BaseException] = field(default_factory=list)

    def uow(self) -> Transaction:
        return InMemoryUnitOfWork(self.store)

    def dispatcher(self, notifier: Notifier | None = None, **options: Any) -> MailDispatcher:
        return MailDispatcher(
            self.uow,
            notifier or self.notifier,
            self.clock,
            on_error=self.errors.append,
            **options,
        )

    async def enqueue(self, count: int = 1) -> list[OutboxMail]:
        mails = [
            OutboxMail(
                id=uuid.uuid4(),
                message=MailMessage(
                    to=f"user{i}@example.com",
                    subject=f"Mail {i}",
                    text=f"Your link: https://hexahub.test/reset?token=secret-{i}",
                ),
                created_at=self.clock.now(),
            )
            for i in range(count)
        ]
        async with self.uow() as uow:
            for mail in mails:
                await uow.outbox.add(mail)
            await uow.commit()
        return mails

    def stored(self, mail: OutboxMail) -> OutboxMail:
        return self.store.committed.outbox[mail.id]


@pytest.fixture
def world() -> World:
    return World()


async def eventually(check: Callable[[], bool], seconds: float = 1.0) -> None:
    """Polls `check` (the loop under test runs in the background) until it holds."""
    for _ in range(int(seconds / 0.005)):
        if check():
            return
        await asyncio.sleep(0.005)
    assert check()


# --- dispatch_due --------------------------------------------------------------------


async def test_nothing_due_sends_nothing(world: World) -> None:
    assert await world.dispatcher().dispatch_due() == 0
    assert world.notifier.attempts == 0


async def test_due_mail_is_sent_once_and_its_body_dropped(world: World) -> None:
    [mail] = await world.enqueue()
    dispatcher = world.dispatcher()

    assert await dispatcher.dispatch_due() == 1
    assert world.notifier.sent == [mail.message]
    stored = world.stored(mail)
    assert stored.sent_at == world.clock.now()
    assert stored.message.text == ""  # the one-time link is gone from storage
    assert stored.message.to == mail.message.to

    world.clock.advance(timedelta(days=1))
    assert await dispatcher.dispatch_due() == 0
    assert world.notifier.sent == [mail.message]


async def test_a_batch_sends_at_most_batch_mails_oldest_first(world: World) -> None:
    mails = []
    for _ in range(3):
        mails += await world.enqueue()
        world.clock.advance(seconds=1)

    assert await world.dispatcher(batch=2).dispatch_due() == 2
    assert world.notifier.sent == [m.message for m in mails[:2]]


async def test_a_failed_mail_is_kept_and_retried_after_the_backoff(world: World) -> None:
    [mail] = await world.enqueue()
    dispatcher = world.dispatcher(base_backoff_seconds=30)
    world.notifier.fail_next(1)

    assert await dispatcher.dispatch_due() == 0
    stored = world.stored(mail)
    assert stored.sent_at is None
    assert stored.message == mail.message  # body kept for the retry
    assert stored.attempts == 1
    assert stored.last_error == "NotifierUnavailableError"
    assert stored.next_attempt_at == world.clock.now() + timedelta(seconds=30)

    world.clock.advance(seconds=29)
    assert await dispatcher.dispatch_due() == 0
    world.clock.advance(seconds=1)
    assert await dispatcher.dispatch_due() == 1
    assert world.notifier.sent == [mail.message]
    assert world.errors == []  # an expected outage is not an error to report


async def test_the_backoff_doubles_and_is_capped_at_one_hour(world: World) -> None:
    [mail] = await world.enqueue()
    dispatcher = world.dispatcher(base_backoff_seconds=30, max_attempts=10)
    world.notifier.fail_next(10)

    waits = []
    for _ in range(9):
        await dispatcher.dispatch_due()
        due = world.stored(mail).next_attempt_at
        assert due is not None
        waits.append((due - world.clock.now()).total_seconds())
        world.clock.set(due)

    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


async def test_a_mail_is_given_up_after_max_attempts(world: World) -> None:
    [mail] = await world.enqueue()
    dispatcher = world.dispatcher(max_attempts=3, base_backoff_seconds=1)
    world.notifier.fail_next(100)

    for _ in range(3):
        assert await dispatcher.dispatch_due() == 0
        world.clock.advance(timedelta(hours=1))

    stored = world.stored(mail)
    assert stored.attempts == 3
    assert stored.next_attempt_at is None  # given up: kept for an operator, never due
    assert stored.sent_at is None
    world.clock.advance(timedelta(days=30))
    assert await dispatcher.dispatch_due() == 0
    assert world.notifier.attempts == 3


async def test_one_failed_mail_does_not_hold_up_the_rest_of_the_batch(world: World) -> None:
    mails = await world.enqueue(3)
    world.notifier.fail_next(1)

    assert await world.dispatcher().dispatch_due() == 2
    [unsent] = [m for m in mails if m.message not in world.notifier.sent]
    assert world.stored(unsent).last_error == "NotifierUnavailableError"


class BrokenNotifier(Notifier):
    """A notifier with a bug: it raises what the port does not allow."""

    async def send(self, message: MailMessage) -> None:
        raise RuntimeError("bug")


async def test_an_unexpected_notifier_error_is_reported_and_retried(world: World) -> None:
    [mail] = await world.enqueue()

    assert await world.dispatcher(BrokenNotifier()).dispatch_due() == 0

    assert [type(e) for e in world.errors] == [RuntimeError]
    stored = world.stored(mail)
    assert stored.last_error == "RuntimeError"
    assert stored.next_attempt_at is not None


async def test_the_recorded_error_names_the_cause_and_holds_no_message(world: World) -> None:
    class SmtpLikeNotifier(Notifier):
        async def send(self, message: MailMessage) -> None:
            try:
                raise ConnectionRefusedError("server said: password=hunter2")
            except ConnectionRefusedError as error:
                raise NotifierUnavailableError() from error

    [mail] = await world.enqueue()
    await world.dispatcher(SmtpLikeNotifier()).dispatch_due()
    assert world.stored(mail).last_error == "NotifierUnavailableError (ConnectionRefusedError)"


async def test_a_claimed_mail_is_not_sent_by_another_dispatcher_meanwhile(world: World) -> None:
    [mail] = await world.enqueue()
    started, release = asyncio.Event(), asyncio.Event()

    class SlowNotifier(InMemoryNotifier):
        async def send(self, message: MailMessage) -> None:
            started.set()
            await release.wait()
            await super().send(message)

    slow = SlowNotifier()
    first = asyncio.create_task(world.dispatcher(slow).dispatch_due())
    await started.wait()  # claimed and committed, now sending

    assert await world.dispatcher().dispatch_due() == 0
    release.set()
    assert await first == 1
    assert slow.sent == [mail.message]
    assert world.notifier.sent == []


async def test_two_dispatchers_running_at_once_never_send_a_mail_twice(world: World) -> None:
    mails = await world.enqueue(25)
    one, two = world.dispatcher(batch=4), world.dispatcher(batch=4)

    total = 0
    for _ in range(10):
        sent = await asyncio.gather(one.dispatch_due(), two.dispatch_due())
        total += sum(sent)

    assert total == 25
    assert sorted(m.to for m in world.notifier.sent) == sorted(m.message.to for m in mails)


async def test_a_slow_batch_stops_before_its_lease_can_run_out(world: World) -> None:
    mails = await world.enqueue(4)

    class SlowNotifier(InMemoryNotifier):
        async def send(self, message: MailMessage) -> None:
            await super().send(message)
            world.clock.advance(seconds=20)  # each send takes 20 s

    slow = SlowNotifier()
    dispatcher = world.dispatcher(slow, lease_seconds=60)

    # Sends at t=0 and t=20; at t=40 more than half the lease is gone: stop.
    assert await dispatcher.dispatch_due() == 2
    assert await world.dispatcher().dispatch_due() == 0  # the rest are still leased
    world.clock.set(mails[0].created_at + timedelta(seconds=60))
    assert await dispatcher.dispatch_due() == 2
    assert sorted(m.to for m in slow.sent) == sorted(m.message.to for m in mails)


@pytest.mark.parametrize(
    "option", ["lease_seconds", "batch", "max_attempts", "base_backoff_seconds"]
)
def test_settings_below_one_are_refused(world: World, option: str) -> None:
    options: dict[str, Any] = {option: 0}
    with pytest.raises(ValueError, match=option):
        world.dispatcher(**options)


# --- run_forever ---------------------------------------------------------------------


async def run_in_background(
    world: World, dispatcher: MailDispatcher, interval: float, wake: asyncio.Event
) -> asyncio.Task[None]:
    """Starts the loop and returns once its first round is over (it sent a first mail
    and recorded it), so what follows is up to the wait between rounds."""
    [first] = await world.enqueue()
    task = asyncio.create_task(dispatcher.run_forever(interval, wake))
    await eventually(lambda: world.stored(first).sent_at is not None)
    world.notifier.sent.clear()
    return task


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_kick_wakes_the_loop_long_before_its_interval(world: World) -> None:
    wake = asyncio.Event()
    task = await run_in_background(world, world.dispatcher(), 3600, wake)
    try:
        [mail] = await world.enqueue()  # as a use case would, then kick
        wake.set()
        await eventually(lambda: world.notifier.sent == [mail.message], seconds=0.5)
    finally:
        await stop(task)


async def test_the_loop_dispatches_again_after_its_interval(world: World) -> None:
    wake = asyncio.Event()
    task = await run_in_background(world, world.dispatcher(), 0.02, wake)
    try:
        [mail] = await world.enqueue()  # no kick
        await eventually(lambda: world.notifier.sent == [mail.message])
    finally:
        await stop(task)


async def test_the_loop_drains_a_backlog_without_waiting_between_batches(world: World) -> None:
    await world.enqueue(7)
    task = asyncio.create_task(world.dispatcher(batch=2).run_forever(3600, asyncio.Event()))
    try:
        await eventually(lambda: len(world.notifier.sent) == 7)
    finally:
        await stop(task)


async def test_the_loop_survives_errors_and_reports_them(world: World) -> None:
    outages = 2

    def flaky_uow() -> Transaction:
        nonlocal outages
        if outages:
            outages -= 1
            raise StorageUnavailableError()
        return world.uow()

    [mail] = await world.enqueue()
    dispatcher = MailDispatcher(
        flaky_uow, world.notifier, world.clock, on_error=world.errors.append
    )
    task = asyncio.create_task(dispatcher.run_forever(0.01, asyncio.Event()))
    try:
        await eventually(lambda: world.notifier.sent == [mail.message])
    finally:
        await stop(task)
    assert [type(e) for e in world.errors] == [StorageUnavailableError] * 2


async def test_a_failing_error_reporter_does_not_stop_the_loop(world: World) -> None:
    def broken_reporter(error: BaseException) -> None:
        raise RuntimeError("the reporter is broken too")

    [mail] = await world.enqueue()
    dispatcher = MailDispatcher(
        world.uow, BrokenNotifier(), world.clock, on_error=broken_reporter, base_backoff_seconds=1
    )
    task = asyncio.create_task(dispatcher.run_forever(0.01, asyncio.Event()))
    try:
        await eventually(lambda: world.stored(mail).attempts >= 1)
        world.clock.advance(seconds=5)
        await eventually(lambda: world.stored(mail).attempts >= 2)
        assert not task.done()
    finally:
        await stop(task)


async def test_the_loop_does_not_hammer_a_mail_server_that_is_down(world: World) -> None:
    await world.enqueue(6)
    world.notifier.fail_next(100)
    task = asyncio.create_task(world.dispatcher(batch=2).run_forever(3600, asyncio.Event()))
    try:
        await eventually(lambda: world.notifier.attempts >= 2)
        await asyncio.sleep(0.05)
    finally:
        await stop(task)
    assert world.notifier.attempts == 2  # one failed batch, then wait for the interval
