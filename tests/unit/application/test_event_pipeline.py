"""The event pipeline: what a commit writes to the outbox, what the relay hands on, and
what never leaves the service (a secret, a hash or a token)."""

import asyncio
import json
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from adapters.crypto.key_factory import CryptographyKeyFactory
from adapters.memory import InMemoryUnitOfWork
from adapters.system.id_generator import Uuid7IdGenerator
from application.access.use_cases.authenticate_api_key import AuthenticateApiKeyCommand
from application.access.use_cases.manage_api_keys import CreateApiKeyCommand
from application.access.use_cases.manage_roles import ChangeRoleCommand
from application.audit.describe import describe
from application.errors import InvalidCredentialsError, LastAdministratorError
from application.events.catalog import USERS, Catalog
from application.events.handlers import HandlerTable, Route
from application.events.relay import EventRelay
from application.events.unit_of_work import EventPipeline
from application.identity.attempts import LoginPolicy
from application.identity.use_cases.change_password import ChangePasswordCommand
from application.identity.use_cases.disable_totp import DisableTotpCommand
from application.identity.use_cases.refresh_session import RefreshSessionCommand
from application.identity.use_cases.update_user import UpdateUserCommand
from application.identity.use_cases.verification import ResetPasswordCommand, VerifyEmailCommand
from application.identity.use_cases.verify_mfa import VerifyMfaCommand
from application.ports.event_handler import Committed, EventHandler
from application.ports.event_outbox import OutboxEvent, rfc3339
from application.ports.user_repository import UserFilter
from application.tokens.key_ring import KeyRing
from application.tokens.use_cases.manage_clients import CreateClientCommand
from application.tokens.use_cases.rotate_signing_key import RotateSigningKey
from domain.identity.user import User
from domain.identity.value_objects import Email, Username
from domain.tokens.signing_keys import KeyAlgorithm
from tests.eventful import domain_event_types
from tests.unit.application.conftest import PASSWORD, App
from tests.unit.application.steps import (
    code_in,
    define_role,
    delivered,
    enrolled,
    mfa_challenge,
    totp_code,
)

NEW_PASSWORD = "a brand new passphrase"


async def outbox(app: App) -> list[OutboxEvent]:
    async with app.uow() as uow:
        return await uow.events.after(None, limit=10_000)


class Keeping(EventHandler):
    def __init__(self, *, fail_times: int = 0) -> None:
        self.batches: list[list[OutboxEvent]] = []
        self._fail_times = fail_times

    async def handle(self, events: Sequence[Committed]) -> None:
        self.batches.append([c.row for c in events])
        if self._fail_times:
            self._fail_times -= 1
            raise ConnectionError("the bus is down")

    @property
    def ids(self) -> list[Any]:
        return [e.id for batch in self.batches for e in batch]


def relay_for(
    app: App, handler: EventHandler, *, retention: timedelta = timedelta(days=1)
) -> EventRelay:
    return EventRelay(
        transactions=lambda: InMemoryUnitOfWork(app.store),
        catalog=app.catalog,
        handlers=HandlerTable([Route(handler=handler, relayed=True)], on_error=lambda *_: None),
        clock=app.clock,
        retention=retention,
        batch=3,
    )


# --- what a commit writes ----------------------------------------------------------------


async def test_a_commit_writes_each_event_with_the_resource_as_the_api_shows_it(
    app: App,
) -> None:
    admin = await app.admin()
    ada = await app.sign_up("ada")
    before = {e.id for e in await outbox(app)}
    app.clock.advance(seconds=5)

    await app.update_user.execute(admin, ada.id, UpdateUserCommand(full_name="Ada Lovelace"))

    [row] = [e for e in await outbox(app) if e.id not in before]
    stored = await app.stored_user(ada.id)
    assert stored is not None
    assert (row.name, row.topic, row.aggregate_id, row.account_id) == (
        "user.updated",
        USERS,
        str(ada.id),
        ada.id,
    )
    assert row.occurred_at == app.clock.now()
    assert row.data == {
        "id": str(ada.id),
        "email": "ada@example.com",
        "username": "ada",
        "full_name": "Ada Lovelace",
        "is_active": True,
        "is_verified": False,
        "roles": ["user"],
        "oauth_provider": None,
        "created_at": rfc3339(stored.created_at),
        "updated_at": rfc3339(app.clock.now()),
        "last_login_at": None,
    }
    assert row.public() == {
        "id": str(row.id),
        "name": "user.updated",
        "topic": "users",
        "occurred_at": rfc3339(app.clock.now()),
        "data": row.data,
    }


async def test_outbox_ids_follow_commit_order(app: App) -> None:
    await app.admin()
    await app.sign_up("ada")
    await app.log_in_as("ada")
    rows = await outbox(app)
    assert [e.id for e in rows] == sorted(e.id for e in rows)
    assert [e.name for e in rows][-2:] == ["user.registered", "user.logged_in"]


async def test_a_rolled_back_change_writes_nothing(app: App) -> None:
    admin = await app.admin()
    before = await outbox(app)
    with pytest.raises(LastAdministratorError):
        await app.update_user.execute(admin, admin.user_id, UpdateUserCommand(is_active=False))
    assert await outbox(app) == before


async def test_events_of_the_unit_of_work_come_first_then_its_aggregates(
    make_app: Any,
) -> None:
    app = make_app(login_policy=LoginPolicy(lockout_threshold=1))
    ada = await app.sign_up("ada")
    with pytest.raises(InvalidCredentialsError):
        await app.log_in_as("ada", password="wrong password!")
    rows = await outbox(app)
    assert [(e.name, e.aggregate_id) for e in rows[-2:]] == [
        ("user.login_failed", str(ada.id)),
        ("user.locked", str(ada.id)),
    ]
    assert rows[-2].data["reason"] == "invalid_credentials"


def test_every_domain_event_has_a_place_in_the_catalog(app: App) -> None:
    """A new event type fails here until its feature's table says how it leaves."""
    catalog: Catalog = app.catalog
    kinds = domain_event_types()
    assert kinds
    assert [kind.__name__ for kind in kinds if kind not in catalog] == []


# --- what never leaves ---------------------------------------------------------------------

_SECRET_WORDS = re.compile(r"secret|hash|token|password|recovery_code", re.IGNORECASE)


def _keys(value: object) -> list[str]:
    if isinstance(value, dict):
        return [k for k, v in value.items() for k in (k, *_keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in _keys(v)]
    return []


async def test_no_event_carries_a_secret_a_hash_or_a_token(app: App) -> None:
    """Every kind of change a user or an administrator can make, then every outbox row
    is searched for each secret the scenario saw and for fields named like one."""
    secrets: list[str] = [PASSWORD, NEW_PASSWORD]
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read")
    await app.change_role.execute(admin, "support", ChangeRoleCommand(name="helpdesk"))
    await app.delete_role.execute(admin, "helpdesk")
    ada = await enrolled(app, "ada")
    secrets += [ada.secret, *ada.recovery_codes]
    token = await mfa_challenge(app, "ada")
    pair = await app.verify_mfa.execute(
        VerifyMfaCommand(mfa_token=token, code=ada.recovery_codes[0])
    )
    secrets += [token, pair.access_token, pair.refresh_token]
    refreshed = await app.refresh_session.execute(
        RefreshSessionCommand(refresh_token=pair.refresh_token)
    )
    secrets += [refreshed.access_token, refreshed.refresh_token]
    issued = await app.create_api_key.execute(
        ada.principal, CreateApiKeyCommand(name="ci", scopes=[], current_password=PASSWORD)
    )
    secrets.append(issued.secret)
    await app.authenticate_api_key.execute(AuthenticateApiKeyCommand(key=issued.secret))
    await app.revoke_api_key.execute(ada.principal, issued.key.id)
    client = await app.create_client.execute(
        admin, CreateClientCommand(name="billing", scopes=["users:read"])
    )
    secrets.append(client.secret)
    await app.revoke_client.execute(admin, client.client.client_id)
    app.clock.advance(seconds=30)
    await app.disable_totp.execute(
        ada.principal,
        DisableTotpCommand(current_password=PASSWORD, code=totp_code(app, ada.secret)),
    )
    await app.request_email_verification.execute(ada.principal)
    await app.request_password_reset.execute("ada@example.com")
    mails = await delivered(app)
    one_time = [code_in(m) for m in mails]
    secrets += one_time
    await app.verify_email.execute(VerifyEmailCommand(token=one_time[0]))
    await app.reset_password.execute(
        ResetPasswordCommand(token=one_time[1], new_password=NEW_PASSWORD)
    )
    bob = await app.signed_in("bob")
    await app.change_password.execute(
        bob, ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD)
    )
    await app.delete_user.execute(admin, bob.user_id)
    ring = KeyRing.stored(
        uow_factory=app.uow_factory,
        key_factory=CryptographyKeyFactory(),
        signing_algorithm=KeyAlgorithm.EDDSA,
        token_lifetime=timedelta(minutes=20),
        clock=app.clock,
    )
    await ring.ensure_key(KeyAlgorithm.EDDSA)
    await RotateSigningKey(ring).execute(admin)
    async with app.uow() as uow:
        for listed in await uow.users.list(filter=UserFilter(), after=None, limit=100):
            user = await uow.users.get(listed.id)
            assert user is not None
            secrets.append(str(user.password_hash))

    rows = await outbox(app)
    names = {row.name for row in rows}
    assert len(names) >= 20, sorted(names)
    for row in rows:
        text = json.dumps([row.data, row.facts, row.aggregate_id])
        assert not [s for s in secrets if s in text], row.name
        assert not [k for k in _keys([row.data, row.facts]) if _SECRET_WORDS.search(k)], row


# --- the relay -------------------------------------------------------------------------------


async def test_the_relay_hands_every_committed_event_on_once_in_order(app: App) -> None:
    await app.admin()
    await app.signed_in("ada")
    keeping = Keeping()
    relay = relay_for(app, keeping)

    relayed = await relay.relay_all()

    rows = await outbox(app)
    assert relayed == len(rows) > 3
    assert keeping.ids == [e.id for e in rows]
    assert all(len(batch) <= 3 for batch in keeping.batches)
    assert all(e.relayed_at == app.clock.now() for e in await outbox(app))
    assert await relay.relay_all() == 0
    assert keeping.ids == [e.id for e in rows]


async def test_after_a_failed_handler_the_same_events_go_again_in_order(app: App) -> None:
    await app.signed_in("ada")
    keeping = Keeping(fail_times=1)
    relay = relay_for(app, keeping)

    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert all(e.relayed_at is None for e in await outbox(app))
    await relay.relay_all()

    first, second = keeping.batches[0], keeping.batches[1]
    assert [e.id for e in first] == [e.id for e in second]
    assert keeping.ids[len(first) :] == [e.id for e in await outbox(app)]


async def test_two_relays_hand_each_event_on_once(app: App) -> None:
    for name in ("ada", "bob", "cyd", "dee"):
        await app.signed_in(name)
    one, two = Keeping(), Keeping()

    async def relaying(relay: EventRelay) -> None:
        for _ in range(10):
            await relay.relay_all()
            await asyncio.sleep(0)

    await asyncio.gather(relaying(relay_for(app, one)), relaying(relay_for(app, two)))

    handed = one.ids + two.ids
    assert sorted(handed) == sorted(e.id for e in await outbox(app))
    assert len(handed) == len(set(handed))


async def test_relayed_events_are_kept_for_the_retention_window_then_pruned(app: App) -> None:
    await app.signed_in("ada")
    relay = relay_for(app, Keeping(), retention=timedelta(hours=1))
    await relay.relay_all()
    kept = await outbox(app)
    app.clock.advance(timedelta(minutes=59))
    await app.sign_up("bob")  # committed, not relayed yet
    assert await relay.prune() == 0

    app.clock.advance(timedelta(minutes=2))
    assert await relay.prune() == len(kept)
    [waiting] = await outbox(app)
    assert (waiting.name, waiting.relayed_at) == ("user.registered", None)


async def test_the_service_relay_reaches_the_bus_and_its_counters(app: App) -> None:
    received: list[OutboxEvent] = []

    async def keep(event: OutboxEvent) -> None:
        received.append(event)

    listening = asyncio.create_task(app.bus.listen(keep))
    await asyncio.sleep(0)
    await app.signed_in("ada")
    try:
        await app.relay.relay_all()
    finally:
        listening.cancel()
    assert [e.id for e in received] == [e.id for e in await outbox(app)]


# --- the committed moment ----------------------------------------------------------------


async def test_a_handler_failing_after_commit_does_not_undo_or_fail_the_change(app: App) -> None:
    class Broken(EventHandler):
        async def handle(self, events: Sequence[Committed]) -> None:
            raise RuntimeError("handler bug")

    reported: list[tuple[str, str]] = []
    after_commit = Keeping()
    pipeline = EventPipeline(
        catalog=app.catalog,
        describe=describe,
        ids=Uuid7IdGenerator(),
        context=app.context,
        handlers=HandlerTable(
            [
                Route(handler=Broken(), committed=True),
                Route(handler=after_commit, committed=True),
            ],
            on_error=lambda name, error: reported.append((name, type(error).__name__)),
        ),
        wake_relay=lambda: None,
    )
    user = User.register(
        id=uuid4(),
        email=Email("ada@example.com"),
        username=Username("ada"),
        full_name=None,
        password_hash="not-a-real-hash",
        now=app.clock.now(),
    )

    async with pipeline.units_of_work(app.uow)() as uow:
        await uow.users.add(user)
        await uow.commit()

    assert await app.stored_user(user.id) is not None
    assert reported == [("Broken", "RuntimeError")]
    assert [e.name for e in after_commit.batches[0]] == ["user.registered"]


def _pipeline_with(app: App, table: HandlerTable) -> EventPipeline:
    return EventPipeline(
        catalog=app.catalog,
        describe=describe,
        ids=Uuid7IdGenerator(),
        context=app.context,
        handlers=table,
        wake_relay=lambda: None,
    )


def _relay_with(app: App, table: HandlerTable) -> EventRelay:
    return EventRelay(
        transactions=lambda: InMemoryUnitOfWork(app.store),
        catalog=app.catalog,
        handlers=table,
        clock=app.clock,
        retention=timedelta(days=1),
    )


async def _register(app: App, table: HandlerTable, name: str) -> None:
    user = User.register(
        id=uuid4(),
        email=Email(f"{name}@example.com"),
        username=Username(name),
        full_name=None,
        password_hash="not-a-real-hash",
        now=app.clock.now(),
    )
    async with _pipeline_with(app, table).units_of_work(app.uow)() as uow:
        await uow.users.add(user)
        await uow.commit()


async def test_the_relay_does_not_repeat_what_this_instance_handled_at_commit(app: App) -> None:
    both = Keeping()
    relayed_only = Keeping()
    here = HandlerTable(
        [
            Route(handler=both, committed=True, relayed=True),
            Route(handler=relayed_only, relayed=True),
        ],
        on_error=lambda *_: None,
    )
    await _register(app, here, "ada")
    assert [e.name for e in both.batches[0]] == ["user.registered"]

    assert await _relay_with(app, here).relay_all() == 1
    assert len(both.batches) == 1  # not again: it ran here at commit
    assert [e.name for e in relayed_only.batches[0]] == ["user.registered"]

    # Another instance's relay (a table that handled nothing at commit) runs it, as it
    # would for an event whose committing instance crashed before its handlers.
    elsewhere = Keeping()
    await _register(app, here, "grace")
    there = HandlerTable(
        [Route(handler=elsewhere, committed=True, relayed=True)], on_error=lambda *_: None
    )
    assert await _relay_with(app, there).relay_all() == 1
    assert [e.name for e in elsewhere.batches[0]] == ["user.registered"]


async def test_the_relay_repeats_what_failed_at_commit(app: App) -> None:
    flaky = Keeping(fail_times=1)
    table = HandlerTable(
        [Route(handler=flaky, committed=True, relayed=True)], on_error=lambda *_: None
    )
    await _register(app, table, "ada")
    assert await _relay_with(app, table).relay_all() == 1
    assert len(flaky.batches) == 2  # the failed run at commit, then the relay's
    assert flaky.batches[0][0].id == flaky.batches[1][0].id
