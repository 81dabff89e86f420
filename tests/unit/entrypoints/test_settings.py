"""Start-up configuration: what a deployment gets wrong must stop the service loudly."""

import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from entrypoints.config.secrets import resolve_jwt_secret
from entrypoints.config.settings import Settings

STRONG = "k" * 16 + "0123456789abcdef0123456789"


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_production_refuses_to_start_without_a_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        settings(environment="production")


@pytest.mark.parametrize("weak", ["changeme", "short-secret", "secret"])
def test_production_refuses_default_or_short_secrets(weak: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        settings(environment="production", jwt_secret=weak)


def test_production_starts_with_a_real_secret() -> None:
    config = settings(
        environment="production",
        jwt_secret=STRONG,
        public_base_url="https://id.example.com",
        key_encryption_keys="k" * 43 + "=",
    )
    assert config.environment == "production"


def test_production_refuses_to_start_without_an_encryption_key() -> None:
    with pytest.raises(ValidationError, match="KEY_ENCRYPTION_KEYS"):
        settings(
            environment="production", jwt_secret=STRONG, public_base_url="https://id.example.com"
        )


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    config = settings(data_dir=tmp_path / "data")
    first = resolve_jwt_secret(config)
    assert len(first) >= 43
    assert resolve_jwt_secret(config) == first  # a restart reads the same secret
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / "jwt_secret").st_mode)
    assert mode == 0o600  # readable by the service's user only


def test_defaults_follow_the_contract(tmp_path: Path) -> None:
    config = settings(data_dir=tmp_path)
    assert (config.host, config.port) == ("127.0.0.1", 8000)
    assert config.access_token_ttl_seconds == 1800
    assert config.refresh_token_ttl_seconds == 604_800
    assert config.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'hexahub.db'}"
    assert config.effective_log_format == "console"
    assert settings(environment="test").effective_log_format == "json"
    assert config.effective_hash_concurrency >= 1


def test_cors_origins_are_comma_separated() -> None:
    config = settings(cors_origins="https://a.example, https://b.example")
    assert config.cors_origins == ["https://a.example", "https://b.example"]


def test_argon2_below_the_owasp_floor_is_refused() -> None:
    with pytest.raises(ValidationError):
        settings(argon2_memory_cost_kib=1024)


def test_blank_values_mean_unset(tmp_path: Path) -> None:
    config = settings(data_dir=tmp_path, jwt_secret="", redis_url=" ", database_url="")
    assert config.jwt_secret is None
    assert config.redis_url is None
    assert config.effective_database_url.startswith("sqlite")


@pytest.mark.parametrize("spec", ["ten/60", "10", "0/60", "10/0"])
def test_malformed_rate_limits_are_refused(spec: str) -> None:
    with pytest.raises(ValidationError, match="rate"):
        settings(rate_limit_login_per_account=spec)


def test_mailed_links_use_the_configured_address_only(tmp_path: Path) -> None:
    assert settings(data_dir=tmp_path).effective_public_base_url == "http://127.0.0.1:8000"
    configured = settings(public_base_url="https://id.example.com")
    assert configured.effective_public_base_url == "https://id.example.com"
