"""Operator-supplied PEM keys: one file or a directory, newest file signs."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from adapters.crypto.file_keys import KeyFileError, load_key_file, load_signing_keys
from adapters.crypto.key_factory import jwk_thumbprint
from adapters.memory.clock import FixedClock
from application.tokens.key_ring import KeyRing
from domain.tokens.signing_keys import KeyAlgorithm

T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write(
    path: Path,
    key: PrivateKeyTypes,
    *,
    fmt: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8,
    mtime: datetime = T0,
    password: bytes | None = None,
) -> Path:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, fmt, encryption))
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def test_an_rsa_file_is_an_rs256_key_named_by_its_thumbprint(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    # PKCS#1 ("BEGIN RSA PRIVATE KEY", what `openssl genrsa` used to write) is accepted
    # and stored as PKCS#8 like generated keys.
    path = write(tmp_path / "k.pem", rsa_key, fmt=serialization.PrivateFormat.TraditionalOpenSSL)
    key = load_key_file(path)
    assert key.algorithm is KeyAlgorithm.RS256
    assert key.public_jwk is not None
    assert key.kid == jwk_thumbprint(key.public_jwk) == key.public_jwk["kid"]
    assert key.private_material.startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (key.created_at, key.retired_at) == (T0, None)


def test_an_ed25519_file_is_an_eddsa_key(tmp_path: Path) -> None:
    key = load_key_file(write(tmp_path / "k.pem", ed25519.Ed25519PrivateKey.generate()))
    assert key.algorithm is KeyAlgorithm.EDDSA
    assert key.public_jwk is not None
    assert key.public_jwk["crv"] == "Ed25519"


def test_a_directory_gives_every_pem_newest_first_and_the_newest_signs(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    old = load_key_file(write(tmp_path / "2024.pem", rsa_key, mtime=T0))
    new_private = ed25519.Ed25519PrivateKey.generate()
    new = load_key_file(write(tmp_path / "2025.pem", new_private, mtime=T0 + timedelta(days=1)))
    (tmp_path / "README.txt").write_text("not a key")
    (tmp_path / "sub.pem").mkdir()

    keys = load_signing_keys(tmp_path)
    assert [k.kid for k in keys] == [new.kid, old.kid]

    ring = KeyRing.static(keys, token_lifetime=timedelta(minutes=15), clock=FixedClock())
    assert ring.signing_key().kid == new.kid
    assert ring.verification_key(old.kid) is not None  # the others verify
    assert {jwk["kid"] for jwk in ring.jwks(T0)} == {new.kid, old.kid}


def test_equal_modification_times_are_ordered_by_name(tmp_path: Path) -> None:
    a = load_key_file(write(tmp_path / "a.pem", ed25519.Ed25519PrivateKey.generate()))
    b = load_key_file(write(tmp_path / "b.pem", ed25519.Ed25519PrivateKey.generate()))
    assert [k.kid for k in load_signing_keys(tmp_path)] == [b.kid, a.kid]


def test_a_single_file_path_gives_one_key(tmp_path: Path) -> None:
    path = write(tmp_path / "k.pem", ed25519.Ed25519PrivateKey.generate())
    assert len(load_signing_keys(path)) == 1


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(KeyFileError, match=r"no \.pem key files"):
        load_signing_keys(tmp_path)


def test_the_same_key_twice_is_refused(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    write(tmp_path / "a.pem", rsa_key)
    write(tmp_path / "b.pem", rsa_key, fmt=serialization.PrivateFormat.TraditionalOpenSSL)
    with pytest.raises(KeyFileError, match="same key"):
        load_signing_keys(tmp_path)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot read"):
        load_signing_keys(tmp_path / "absent.pem")


def test_an_encrypted_key_is_refused_with_advice(tmp_path: Path) -> None:
    path = write(tmp_path / "k.pem", ed25519.Ed25519PrivateKey.generate(), password=b"pw")
    with pytest.raises(KeyFileError, match="encrypted"):
        load_key_file(path)


def test_other_key_types_and_short_rsa_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="unsupported key type"):
        load_key_file(write(tmp_path / "ec.pem", ec.generate_private_key(ec.SECP256R1())))
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the refusal under test
    with pytest.raises(KeyFileError, match="2048"):
        load_key_file(write(tmp_path / "short.pem", short))


def test_garbage_is_refused_without_echoing_the_file(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    path.write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXN0dWZm\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyFileError) as refused:
        load_key_file(path)
    assert "c2VjcmV0" not in str(refused.value)
    assert refused.value.__cause__ is None
    public_only = tmp_path / "pub.pem"
    public_only.write_bytes(
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFileError, match="does not hold a PEM private key"):
        load_key_file(public_only)
