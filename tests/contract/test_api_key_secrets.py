"""ApiKeySecrets: keys are shown once, stored as a digest, and only the right key fits."""

import pytest

from adapters.secrets.api_keys import HashedApiKeySecrets
from application.ports.api_key_secrets import ApiKeySecrets


@pytest.fixture(params=[HashedApiKeySecrets], ids=["hashed"])
def secrets(request: pytest.FixtureRequest) -> ApiKeySecrets:
    adapter: ApiKeySecrets = request.param()
    return adapter


def test_a_new_key_parses_back_to_its_stored_digest(secrets: ApiKeySecrets) -> None:
    new = secrets.new_key()
    assert new.key.startswith(f"hx_{new.prefix}_")
    assert new.secret_hash not in new.key  # the stored form never appears in the key
    parsed = secrets.parse(new.key)
    assert parsed is not None
    prefix, digest = parsed
    assert prefix == new.prefix
    assert secrets.matches(digest, new.secret_hash)


def test_keys_are_unique_and_high_entropy(secrets: ApiKeySecrets) -> None:
    keys = {secrets.new_key().key for _ in range(200)}
    assert len(keys) == 200
    assert all(len(k) >= 50 for k in keys)


def test_a_wrong_secret_with_the_right_prefix_does_not_match(secrets: ApiKeySecrets) -> None:
    new = secrets.new_key()
    forged = new.key[:-1] + ("A" if new.key[-1] != "A" else "B")
    parsed = secrets.parse(forged)
    assert parsed is not None
    assert not secrets.matches(parsed[1], new.secret_hash)


@pytest.mark.parametrize(
    "garbage", ["", "hx_", "hx_abc_def", "bearer hx_x_y", "hx_0123456789ab_short", "x" * 5000]
)
def test_malformed_keys_do_not_parse(secrets: ApiKeySecrets, garbage: str) -> None:
    assert secrets.parse(garbage) is None
