"""Mailed links (verification, password reset) are built from PUBLIC_BASE_URL.

In production a missing value would send links to http://HOST:PORT (http://0.0.0.0:8000
in the image), and an http one would carry one-time tokens in clear text: both stop the
service at start-up.
"""

import pytest
from pydantic import ValidationError

from entrypoints.config.settings import Settings

STRONG = "k" * 16 + "0123456789abcdef0123456789"
FERNET_KEY = "k" * 43 + "="


def production(**values: object) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment="production",
        jwt_secret=STRONG,
        key_encryption_keys=FERNET_KEY,
        **values,
    )


@pytest.mark.parametrize("missing", [{}, {"public_base_url": ""}, {"public_base_url": "  "}])
def test_production_refuses_to_start_without_a_public_base_url(missing: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="PUBLIC_BASE_URL"):
        production(**missing)


@pytest.mark.parametrize(
    "url",
    ["http://id.example.com", "http://0.0.0.0:8000", "id.example.com", "https://", "ftp://x.io"],
)
def test_production_refuses_a_public_base_url_that_is_not_https(url: str) -> None:
    with pytest.raises(ValidationError, match="PUBLIC_BASE_URL must be an https URL"):
        production(public_base_url=url)


def test_production_starts_with_an_https_public_base_url() -> None:
    config = production(public_base_url="https://id.example.com")
    assert config.effective_public_base_url == "https://id.example.com"


def test_development_keeps_the_local_default() -> None:
    config = Settings(_env_file=None, host="127.0.0.1", port=8000)  # type: ignore[call-arg]
    assert config.effective_public_base_url == "http://127.0.0.1:8000"
