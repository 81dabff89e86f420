"""0006 on a database in use: addresses stored in other spellings are rewritten to their
canonical form, so login by email finds them; rows that would collide, or that today's
rules refuse, are kept as they were and reported to the operator."""

import asyncio
import logging
import unicodedata
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from adapters.sqlalchemy.engine import create_engine, create_session_factory
from adapters.sqlalchemy.migrations import alembic_config, downgrade_to, upgrade_to
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from domain.identity.value_objects import Email

REVISION = "0006_normalise_emails"
USERS = sa.table(
    "users",
    sa.column("id", sa.Uuid()),
    sa.column("email", sa.String()),
    sa.column("username", sa.String()),
    sa.column("is_active", sa.Boolean()),
    sa.column("is_verified", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
NFC_JURGEN = unicodedata.normalize("NFC", "jürgen@example.com")
NFD_JURGEN = unicodedata.normalize("NFD", "jürgen@example.com")


def _previous_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("")).get_revision(REVISION)
    assert script is not None
    assert isinstance(script.down_revision, str)
    return script.down_revision


async def _insert(url: str, emails: dict[str, str]) -> dict[str, uuid.UUID]:
    """Rows as an earlier release stored them: lower-cased, nothing more."""
    ids = {name: uuid.uuid4() for name in emails}
    now = datetime.now(UTC)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                USERS.insert(),
                [
                    {
                        "id": ids[name],
                        "email": email,
                        "username": name,
                        "is_active": True,
                        "is_verified": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for name, email in emails.items()
                ],
            )
    finally:
        await engine.dispose()
    return ids


async def _stored(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(sa.select(USERS.c.username, USERS.c.email))
            return {row.username: row.email for row in rows}
    finally:
        await engine.dispose()


async def test_stored_addresses_are_normalised_and_collisions_reported(
    empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await asyncio.to_thread(upgrade_to, empty_url, _previous_revision())
    before = {
        "zoe": unicodedata.normalize("NFD", "zoë@bücher.example"),
        "ada": "ada@xn--bcher-kva.example",
        "bob": "bob@example.com.",
        "carol": "carol@example.com",
        "jurgen": NFC_JURGEN,
        "jurgen2": NFD_JURGEN,
        "dave": "dave@example.invalid",
    }
    ids = await _insert(empty_url, before)

    with caplog.at_level(logging.INFO, logger="hexahub.migrations"):
        await asyncio.to_thread(upgrade_to, empty_url, REVISION)

    assert await _stored(empty_url) == {
        "zoe": unicodedata.normalize("NFC", "zoë@bücher.example"),
        "ada": "ada@bücher.example",
        "bob": "bob@example.com",
        "carol": "carol@example.com",
        # One mailbox, two accounts: neither is touched, the operator decides.
        "jurgen": NFC_JURGEN,
        "jurgen2": NFD_JURGEN,
        # Refused by today's rules (a reserved domain): kept, not lost.
        "dave": "dave@example.invalid",
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    (collision,) = [w for w in warnings if w.startswith("email_collision")]
    assert f"{ids['jurgen']} (jurgen)" in collision
    assert f"{ids['jurgen2']} (jurgen2)" in collision
    (refused,) = [w for w in warnings if w.startswith("email_not_normalised")]
    assert f"{ids['dave']} (dave)" in refused
    # The report names accounts, never their addresses.
    domains = {email.rpartition("@")[2] for email in before.values()}
    assert not [w for w in warnings for part in {*before.values(), *domains} if part in w]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert "emails_normalised: 3 of 7 stored addresses rewritten" in infos

    # Login by email looks the canonical form up: the rewritten accounts are found.
    engine = create_engine(empty_url)
    try:
        async with SqlAlchemyUnitOfWork(create_session_factory(engine)) as uow:
            found = await uow.users.get_by_email(Email("ada@bücher.example"))
            assert found is not None
            assert found.id == ids["ada"]
    finally:
        await engine.dispose()

    # Going back keeps the normalised addresses; coming up again changes nothing more.
    await asyncio.to_thread(downgrade_to, empty_url, _previous_revision())
    await asyncio.to_thread(upgrade_to, empty_url, REVISION)
    assert (await _stored(empty_url))["ada"] == "ada@bücher.example"
