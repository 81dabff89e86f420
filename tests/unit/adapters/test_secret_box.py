"""FernetSecretBox: authenticated encryption at rest, with rotation of its key."""

import pytest

from adapters.crypto.secret_box import (
    DEVELOPMENT_ONLY_KEY,
    FernetSecretBox,
    SecretDecryptionError,
)

SECRET = b"-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----\n"


def test_round_trip_without_the_plaintext_in_the_ciphertext() -> None:
    box = FernetSecretBox([FernetSecretBox.generate_key()])
    sealed = box.encrypt(SECRET)
    assert SECRET not in sealed
    assert b"PRIVATE KEY" not in sealed
    assert box.decrypt(sealed) == SECRET


def test_each_encryption_differs_but_all_decrypt() -> None:
    box = FernetSecretBox([FernetSecretBox.generate_key()])
    first, second = box.encrypt(SECRET), box.encrypt(SECRET)
    assert first != second  # a fresh IV each time: equal secrets are not recognisable
    assert box.decrypt(first) == box.decrypt(second) == SECRET


def test_empty_plaintext_round_trips() -> None:
    box = FernetSecretBox([FernetSecretBox.generate_key()])
    assert box.decrypt(box.encrypt(b"")) == b""


def test_a_wrong_key_is_a_clear_error() -> None:
    sealed = FernetSecretBox([FernetSecretBox.generate_key()]).encrypt(SECRET)
    other = FernetSecretBox([FernetSecretBox.generate_key()])
    with pytest.raises(SecretDecryptionError, match="cannot be decrypted"):
        other.decrypt(sealed)


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage"])
def test_tampered_ciphertext_is_refused(damage: str) -> None:
    box = FernetSecretBox([FernetSecretBox.generate_key()])
    sealed = box.encrypt(SECRET)
    if damage == "flip":
        middle = len(sealed) // 2
        damaged = sealed[:middle] + bytes([sealed[middle] ^ 0x01]) + sealed[middle + 1 :]
    elif damage == "truncate":
        damaged = sealed[:-4]
    else:
        damaged = b"not a fernet token"
    with pytest.raises(SecretDecryptionError):
        box.decrypt(damaged)


def test_rotation_first_key_encrypts_every_key_decrypts() -> None:
    old_key, new_key = FernetSecretBox.generate_key(), FernetSecretBox.generate_key()
    old = FernetSecretBox([old_key])
    sealed_by_old = old.encrypt(SECRET)

    rotated = FernetSecretBox([new_key, old_key])
    assert rotated.decrypt(sealed_by_old) == SECRET  # old data stays readable
    sealed_by_new = rotated.encrypt(SECRET)
    assert FernetSecretBox([new_key]).decrypt(sealed_by_new) == SECRET  # new key encrypts
    with pytest.raises(SecretDecryptionError):
        old.decrypt(sealed_by_new)

    re_encrypted = rotated.rotate(sealed_by_old)
    assert FernetSecretBox([new_key]).decrypt(re_encrypted) == SECRET
    # Once everything is re-encrypted the old key can go.
    with pytest.raises(SecretDecryptionError):
        FernetSecretBox([new_key]).decrypt(sealed_by_old)


def test_rotate_refuses_what_no_key_opens() -> None:
    sealed = FernetSecretBox([FernetSecretBox.generate_key()]).encrypt(SECRET)
    with pytest.raises(SecretDecryptionError):
        FernetSecretBox([FernetSecretBox.generate_key()]).rotate(sealed)


def test_generated_keys_are_distinct_fernet_keys() -> None:
    keys = {FernetSecretBox.generate_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert isinstance(key, str)
        FernetSecretBox([key])  # accepted


def test_no_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FernetSecretBox([])


@pytest.mark.parametrize(
    "bad", ["", "too-short", "x" * 44, "not base64 at all !!!!!!!!!!!!!!!!!!!!!!!!"]
)
def test_a_malformed_key_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(ValueError, match=r"#2 is not a Fernet key") as caught:
        FernetSecretBox([FernetSecretBox.generate_key(), bad])
    if bad:
        assert bad not in str(caught.value)


def test_the_development_key_is_a_usable_key() -> None:
    box = FernetSecretBox([DEVELOPMENT_ONLY_KEY])
    assert box.decrypt(box.encrypt(SECRET)) == SECRET
