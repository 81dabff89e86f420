"""Contract of `SigningKeyRepository`, identical on every adapter; on SQL, the private
material is encrypted at rest."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from adapters.crypto.secret_box import FernetSecretBox, SecretDecryptionError
from adapters.sqlalchemy.engine import create_session_factory
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import ConflictError, NotFoundError
from domain.tokens.signing_keys import KeyAlgorithm, SigningKey
from tests.contract.persistence import (
    PLUS_TWO,
    PRIVATE_PEM,
    T0,
    Backend,
    assert_same_fields,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    make_signing_key,
)


async def store_keys(backend: Backend, *keys: SigningKey) -> None:
    async with backend.new_uow() as uow:
        for key in keys:
            await uow.signing_keys.add(key)
        await uow.commit()


async def test_a_stored_key_reads_back_field_for_field(backend: Backend) -> None:
    rsa = make_signing_key("rsa-1", created_at=T0.astimezone(PLUS_TWO))
    rsa = replace(rsa, retired_at=(T0 + timedelta(days=1)).astimezone(PLUS_TWO))
    hmac = make_signing_key(
        "hs-1",
        algorithm=KeyAlgorithm.HS256,
        private_material=bytes(range(256)),  # raw secret bytes, every value
        created_at=T0 - timedelta(days=1),
    )
    eddsa = make_signing_key("ed-1", algorithm=KeyAlgorithm.EDDSA, created_at=T0 - timedelta(1))
    await store_keys(backend, rsa, hmac, eddsa)

    async with backend.new_uow() as uow:
        listed = {k.kid: k for k in await uow.signing_keys.list()}

    assert set(listed) == {"rsa-1", "hs-1", "ed-1"}
    for key in (rsa, hmac, eddsa):
        assert_same_fields(key, listed[key.kid])
    assert listed["hs-1"].public_jwk is None


async def test_list_is_newest_first(backend: Backend) -> None:
    keys = [
        make_signing_key("middle", created_at=T0 + timedelta(hours=1)),
        make_signing_key("old", created_at=T0),
        make_signing_key("new", created_at=T0 + timedelta(hours=2)),
    ]
    await store_keys(backend, *keys)
    async with backend.new_uow() as uow:
        assert [k.kid for k in await uow.signing_keys.list()] == ["new", "middle", "old"]


async def test_no_keys_is_an_empty_list(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        assert await uow.signing_keys.list() == []


async def test_retire_stamps_once_and_needs_a_commit(backend: Backend) -> None:
    key, other = make_signing_key("k1"), make_signing_key("k2")
    await store_keys(backend, key, other)

    async with backend.new_uow() as uow:
        await uow.signing_keys.retire("k1", now=T0 + timedelta(hours=1))
        inside = {k.kid: k for k in await uow.signing_keys.list()}
        assert inside["k1"].retired_at == T0 + timedelta(hours=1)  # seen in its own unit
    async with backend.new_uow() as uow:
        assert all(k.retired_at is None for k in await uow.signing_keys.list())

    async with backend.new_uow() as uow:
        await uow.signing_keys.retire("k1", now=(T0 + timedelta(hours=1)).astimezone(PLUS_TWO))
        await uow.commit()
    async with backend.new_uow() as uow:
        # Retiring again must not stretch how long the key keeps verifying.
        await uow.signing_keys.retire("k1", now=T0 + timedelta(days=7))
        await uow.commit()

    async with backend.new_uow() as uow:
        stored = {k.kid: k for k in await uow.signing_keys.list()}
    assert_same_fields(replace(key, retired_at=T0 + timedelta(hours=1)), stored["k1"])
    assert stored["k2"].retired_at is None
    assert not stored["k1"].verifies_at(T0 + timedelta(hours=3), token_lifetime=timedelta(hours=1))


async def test_retiring_an_unknown_key_is_not_found(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        with pytest.raises(NotFoundError):
            await uow.signing_keys.retire("nosuchkid", now=T0)


async def test_a_taken_kid_is_a_conflict_and_the_unit_stays_usable(backend: Backend) -> None:
    first = make_signing_key("dup")
    await store_keys(backend, first)

    async with backend.new_uow() as uow:
        assert len(await uow.signing_keys.list()) == 1  # the row is in the identity map
        with pytest.raises(ConflictError):
            await uow.signing_keys.add(make_signing_key("dup", private_material=b"other"))
        await uow.signing_keys.add(make_signing_key("fresh"))
        await uow.commit()

    async with backend.new_uow() as uow:
        stored = {k.kid: k for k in await uow.signing_keys.list()}
    assert set(stored) == {"dup", "fresh"}
    assert stored["dup"].private_material == PRIVATE_PEM


async def test_the_private_material_is_encrypted_at_rest(backend: Backend) -> None:
    """Looks behind the port: the column holds ciphertext only the configured box
    opens, so a dump or a backup of the database alone cannot sign tokens."""
    if backend.engine is None or backend.secret_box is None:
        pytest.skip("the in-memory twin never persists (it keeps plaintext)")
    secret = bytes(range(32)) * 2
    await store_keys(
        backend,
        make_signing_key("pem"),
        make_signing_key("raw", algorithm=KeyAlgorithm.HS256, private_material=secret),
    )
    async with backend.engine.connect() as connection:
        rows = await connection.execute(text("SELECT kid, private_material FROM signing_keys"))
        stored = {kid: bytes(value) for kid, value in rows}

    assert PRIVATE_PEM not in stored["pem"]
    assert b"PRIVATE KEY" not in stored["pem"]
    assert secret not in stored["raw"]
    assert backend.secret_box.decrypt(stored["pem"]) == PRIVATE_PEM
    assert backend.secret_box.decrypt(stored["raw"]) == secret
    stranger = FernetSecretBox([FernetSecretBox.generate_key()])
    for value in stored.values():
        with pytest.raises(SecretDecryptionError):
            stranger.decrypt(value)

    # A unit of work configured with another key refuses to read rather than guess.
    factory = create_session_factory(backend.engine)
    async with SqlAlchemyUnitOfWork(factory, stranger) as uow:
        with pytest.raises(SecretDecryptionError):
            await uow.signing_keys.list()


async def test_rotating_the_encryption_key_keeps_stored_keys_readable(backend: Backend) -> None:
    if backend.engine is None:
        pytest.skip("the in-memory twin does not encrypt")
    old_key, new_key = FernetSecretBox.generate_key(), FernetSecretBox.generate_key()
    factory = create_session_factory(backend.engine)
    key = make_signing_key("before-rotation")
    async with SqlAlchemyUnitOfWork(factory, FernetSecretBox([old_key])) as uow:
        await uow.signing_keys.add(key)
        await uow.commit()

    async with SqlAlchemyUnitOfWork(factory, FernetSecretBox([new_key, old_key])) as uow:
        (found,) = await uow.signing_keys.list()
        await uow.signing_keys.add(make_signing_key("after-rotation", created_at=T0 - timedelta(1)))
        await uow.commit()
    assert_same_fields(key, found)

    async with SqlAlchemyUnitOfWork(factory, FernetSecretBox([new_key])) as uow:
        with pytest.raises(SecretDecryptionError):  # the first key was written with old_key
            await uow.signing_keys.list()
