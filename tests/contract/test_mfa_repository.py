"""Contract of `MfaRepository`, identical on every adapter; on SQL, the TOTP seed is
encrypted at rest."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from adapters.crypto.secret_box import FernetSecretBox, SecretDecryptionError
from adapters.sqlalchemy.engine import create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from domain.identity.mfa import TotpFactor
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    TOTP_SEED,
    Backend,
    assert_same_fields,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_factor,
    make_user,
    store_factors,
    store_users,
)

CODES = frozenset({"a" * 64, "b" * 64, "c" * 64})
STEP = 58_000_000  # about now, in 30-second steps since the epoch


def confirmed(factor: TotpFactor, *, step: int = STEP) -> TotpFactor:
    factor.confirm(step=step, recovery_code_hashes=CODES, now=T0 + timedelta(minutes=1))
    return factor


async def test_a_stored_factor_reads_back_field_for_field(backend: Backend) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    pending = make_factor(alice, created_at=T0.astimezone(PLUS_TWO))
    enabled = confirmed(make_factor(bob, secret="GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"))
    enabled.last_used_step = 2**40  # wider than 32 bits
    await store_factors(backend, pending, enabled)

    async with backend.new_uow() as uow:
        pending_again = await uow.mfa.get(alice.id)
        enabled_again = await uow.mfa.get(bob.id, for_update=True)
        assert await uow.mfa.get(make_user("ghost").id) is None

    assert pending_again is not None
    assert_same_fields(pending, pending_again)
    assert not pending_again.is_enabled
    assert enabled_again is not None
    assert_same_fields(enabled, enabled_again)
    assert enabled_again.is_enabled
    assert enabled_again.pull_events() == []


async def test_changes_count_only_once_put(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    factor = make_factor(user)
    async with backend.new_uow() as uow:
        await uow.mfa.put(factor)
        confirmed(factor)  # the stored copy must not follow
        await uow.commit()

    async with backend.new_uow() as uow:
        loaded = await uow.mfa.get(user.id)
        assert loaded is not None
        assert not loaded.is_enabled
        confirmed(loaded)  # not put
        await uow.commit()

    async with backend.new_uow() as uow:
        loaded = await uow.mfa.get(user.id, for_update=True)
        assert loaded is not None
        assert not loaded.is_enabled
        confirmed(loaded)
        assert loaded.use_recovery_code("b" * 64, now=T0 + timedelta(minutes=2))
        await uow.mfa.put(loaded)
        seen_inside = await uow.mfa.get(user.id)
        assert seen_inside is not None
        assert seen_inside.recovery_code_hashes == CODES - {"b" * 64}
        await uow.commit()

    async with backend.new_uow() as uow:
        saved = await uow.mfa.get(user.id)
    assert saved is not None
    assert_same_fields(loaded, saved)


async def test_put_replaces_the_users_factor(backend: Backend) -> None:
    """Re-enrolment: a new seed replaces the old factor, codes and all."""
    user = make_user("alice")
    await store_users(backend, user)
    await store_factors(backend, confirmed(make_factor(user)))
    fresh = make_factor(
        user, secret="MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U", created_at=T0 + timedelta(1)
    )
    await store_factors(backend, fresh)

    async with backend.new_uow() as uow:
        saved = await uow.mfa.get(user.id)
    assert saved is not None
    assert_same_fields(fresh, saved)
    assert saved.recovery_code_hashes == frozenset()


async def test_delete_removes_only_that_users_factor(backend: Backend) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    await store_factors(backend, make_factor(alice), make_factor(bob))

    async with backend.new_uow() as uow:
        await uow.mfa.delete(alice.id)
        assert await uow.mfa.get(alice.id) is None
        await uow.mfa.delete(make_user("ghost").id)  # nothing to delete: no error
        await uow.mfa.put(make_factor(alice, secret="ONSWG4TFOQYTEMZUGU3DOOBZ"))  # re-enrol
        again = await uow.mfa.get(alice.id)
        assert again is not None
        assert again.secret == "ONSWG4TFOQYTEMZUGU3DOOBZ"
    async with backend.new_uow() as uow:
        assert await uow.mfa.get(alice.id) is not None  # not committed
        await uow.mfa.delete(alice.id)
        await uow.commit()
    async with backend.new_uow() as uow:
        assert await uow.mfa.get(alice.id) is None
        assert await uow.mfa.get(bob.id) is not None


async def test_deleting_the_user_deletes_the_factor(backend: Backend) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    await store_users(backend, alice, bob)
    await store_factors(backend, confirmed(make_factor(alice)), make_factor(bob))

    async with backend.new_uow() as uow:
        assert await uow.mfa.get(alice.id) is not None  # cached, must not survive
        await uow.users.delete(alice.id)
        assert await uow.mfa.get(alice.id) is None
        await uow.commit()
    async with backend.new_uow() as uow:
        assert await uow.mfa.get(alice.id) is None
        assert await uow.mfa.get(bob.id) is not None


async def test_read_for_update_makes_concurrent_code_checks_take_turns(backend: Backend) -> None:
    """Two logins with the same TOTP code at once: the code is accepted once
    (RFC 6238 §5.2), because the second check waits and then sees the first's step."""
    user = make_user("alice")
    await store_users(backend, user)
    await store_factors(backend, confirmed(make_factor(user)))
    entered = asyncio.Event()

    async def check(*, first: bool) -> bool:
        async with backend.new_uow() as uow:
            if not first:
                await entered.wait()  # the first check holds the row by now
            factor = await uow.mfa.get(user.id, for_update=True)
            assert factor is not None
            if first:
                entered.set()
                await asyncio.sleep(0.05)  # the second check queues meanwhile
            accepted = factor.accept_step(STEP + 1)
            if accepted:
                await uow.mfa.put(factor)
                await uow.commit()
            return accepted

    outcomes = await asyncio.gather(check(first=True), check(first=False))

    assert list(outcomes) == [True, False]
    async with backend.new_uow() as uow:
        stored = await uow.mfa.get(user.id)
    assert stored is not None
    assert stored.last_used_step == STEP + 1


async def test_read_for_update_spends_a_recovery_code_once(backend: Backend) -> None:
    user = make_user("alice")
    await store_users(backend, user)
    await store_factors(backend, confirmed(make_factor(user)))
    entered = asyncio.Event()

    async def spend(*, first: bool) -> bool:
        async with backend.new_uow() as uow:
            if not first:
                await entered.wait()
            factor = await uow.mfa.get(user.id, for_update=True)
            assert factor is not None
            if first:
                entered.set()
                await asyncio.sleep(0.05)
            used = factor.use_recovery_code("a" * 64, now=T0 + timedelta(minutes=5))
            if used:
                await uow.mfa.put(factor)
                await uow.commit()
            return used

    outcomes = await asyncio.gather(spend(first=True), spend(first=False))

    assert list(outcomes) == [True, False]
    async with backend.new_uow() as uow:
        stored = await uow.mfa.get(user.id)
    assert stored is not None
    assert stored.recovery_code_hashes == CODES - {"a" * 64}


async def test_the_seed_is_encrypted_at_rest(backend: Backend) -> None:
    """Looks behind the port: the column holds ciphertext only the configured box
    opens, so a dump or a backup of the database alone cannot produce codes."""
    if backend.engine is None or backend.secret_box is None:
        pytest.skip("the in-memory twin never persists (it keeps plaintext)")
    user = make_user("alice")
    await store_users(backend, user)
    await store_factors(backend, make_factor(user))
    async with backend.engine.connect() as connection:
        raw = (
            await connection.execute(
                text("SELECT secret FROM mfa_factors WHERE user_id = :id"),
                {"id": user.id.hex if backend.name == "sqlite" else user.id},
            )
        ).scalar_one()

    stored = bytes(raw)
    assert TOTP_SEED.encode() not in stored
    assert TOTP_SEED.lower().encode() not in stored.lower()
    assert backend.secret_box.decrypt(stored) == TOTP_SEED.encode()
    stranger = FernetSecretBox([FernetSecretBox.generate_key()])
    with pytest.raises(SecretDecryptionError):
        stranger.decrypt(stored)

    # A unit of work configured with another key refuses to read rather than guess.
    async with SqlAlchemyUnitOfWork(create_session_factory(backend.engine), stranger) as uow:
        with pytest.raises(SecretDecryptionError):
            await uow.mfa.get(user.id)
