"""WebhookEnqueuer: each relayed event a webhook wants becomes one pending delivery, and
an event no webhook wants costs no write transaction (on SQLite, no turn at the write
lock, which requests queue for)."""

from adapters.memory.clock import FixedClock
from adapters.memory.id_generator import SequentialIdGenerator
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from application.live.topics import ACCOUNT
from application.ports.event_handler import Committed
from application.ports.event_outbox import OutboxEvent
from application.webhooks.queue import WebhookEnqueuer
from domain.identity.events import UserLoggedIn
from domain.webhooks.webhooks import DeliveryOutcome, Webhook

clock = FixedClock()
ids = SequentialIdGenerator()


def logged_in() -> Committed:
    user_id = ids.new_id()
    event = UserLoggedIn(occurred_at=clock.now(), user_id=user_id, session_id=ids.new_id())
    row = OutboxEvent(
        id=ids.new_id(),
        name="user.logged_in",
        topic=ACCOUNT,
        aggregate_id=str(user_id),
        account_id=user_id,
        data={},
        facts={"user_id": str(user_id)},
        occurred_at=clock.now(),
    )
    return Committed(row, event)


class Relayed:
    """An enqueuer on one in-memory store, counting the write transactions it opens and
    the times it wakes the dispatcher."""

    def __init__(self) -> None:
        self.store = InMemoryStore()
        self.writes = 0
        self.woken = 0
        self.enqueuer = WebhookEnqueuer(
            self._write,
            ids,
            clock,
            self._wake,
            reads=lambda: InMemoryUnitOfWork(self.store),
        )

    def _write(self) -> InMemoryUnitOfWork:
        self.writes += 1
        return InMemoryUnitOfWork(self.store)

    def _wake(self) -> None:
        self.woken += 1


async def registered(store: InMemoryStore, *events: str) -> Webhook:
    webhook = Webhook.register(
        id=ids.new_id(),
        owner_id=None,
        url="https://hooks.example/in",
        events=events,
        description=None,
        secret="whsec_" + "a" * 32,
        now=clock.now(),
    )
    async with InMemoryUnitOfWork(store) as tx:
        await tx.webhooks.add(webhook)
        await tx.commit()
    return webhook


async def test_an_event_no_webhook_wants_opens_no_write_transaction() -> None:
    relayed = Relayed()
    await registered(relayed.store, "user.deleted")

    await relayed.enqueuer.handle([logged_in()])

    assert (relayed.writes, relayed.woken) == (0, 0)


async def test_a_wanted_event_becomes_one_pending_delivery_per_webhook() -> None:
    relayed = Relayed()
    wanting = await registered(relayed.store, "user.logged_in")
    await registered(relayed.store, "user.deleted")
    event = logged_in()

    await relayed.enqueuer.handle([event])

    async with InMemoryUnitOfWork(relayed.store) as tx:
        queued = await tx.webhooks.deliveries(wanting.id, limit=10)
    assert [(d.event_id, d.event, d.outcome) for d in queued] == [
        (event.row.id, "user.logged_in", DeliveryOutcome.PENDING)
    ]
    assert (relayed.writes, relayed.woken) == (1, 1)
