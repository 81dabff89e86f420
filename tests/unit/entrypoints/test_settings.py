"""Start-up configuration: what a deployment gets wrong must stop the service loudly."""

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from entrypoints.config.secrets import resolve_jwt_secret
from entrypoints.config.settings import SECRET_FILES, Settings

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


# --- secrets from files (Docker and Kubernetes secrets) ---------------------------------

FERNET_A, FERNET_B = "a" * 43 + "=", "b" * 43 + "="
FROM_FILES = {
    "JWT_SECRET": (STRONG, lambda c: c.jwt_secret.get_secret_value()),
    "KEY_ENCRYPTION_KEYS": (
        f"{FERNET_A}\n{FERNET_B}",
        lambda c: [k.get_secret_value() for k in c.key_encryption_keys],
    ),
    "DATABASE_URL": ("postgresql+asyncpg://hexahub:pw@db/hexahub", lambda c: c.database_url),
    "REDIS_URL": ("redis://:pw@cache:6379/0", lambda c: c.redis_url.get_secret_value()),
    "SMTP_PASSWORD": ("smtp pass word", lambda c: c.smtp_password.get_secret_value()),
    "FIRST_ADMIN_PASSWORD": (
        "first admin pass",
        lambda c: c.first_admin_password.get_secret_value(),
    ),
    # The provider list carries client secrets: the whole JSON may come from a file.
    "OIDC_PROVIDERS": (
        '[{"name": "corp", "issuer": "https://login.corp.example", "client_id": "hexahub", '
        '"client_secret": "s3cret", "display_name": "Corp"}]',
        lambda c: [(p.name, p.client_secret.get_secret_value()) for p in c.oidc_providers],
    ),
}


def test_every_secret_setting_has_a_file_twin() -> None:
    secret_fields = {
        name
        for name, field in Settings.model_fields.items()
        if "SecretStr" in str(field.annotation)
    }
    assert secret_fields <= set(SECRET_FILES)
    assert {name.lower() for name in FROM_FILES} == set(SECRET_FILES)
    for name in SECRET_FILES:
        assert f"{name}_file" in Settings.model_fields, name


@pytest.mark.parametrize("name", sorted(FROM_FILES))
def test_a_secret_is_read_from_its_file_without_the_final_line_break(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content, read = FROM_FILES[name]
    secret = tmp_path / name.lower()
    secret.write_text(content + "\n")
    monkeypatch.setenv(f"{name}_FILE", str(secret))
    monkeypatch.delenv(name, raising=False)
    expected: object = content.split("\n") if name == "KEY_ENCRYPTION_KEYS" else content
    if name == "OIDC_PROVIDERS":
        expected = [("corp", "s3cret")]
    assert read(settings()) == expected


def test_a_value_and_its_file_together_are_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "jwt_secret"
    secret.write_text(STRONG)
    monkeypatch.setenv("JWT_SECRET_FILE", str(secret))
    monkeypatch.setenv("JWT_SECRET", STRONG)
    with pytest.raises(ValidationError, match="JWT_SECRET and JWT_SECRET_FILE are both set"):
        settings()


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: None, "No such file or directory"),
        (lambda path: path.mkdir(), "Is a directory"),
        (lambda path: path.write_text("\n"), "is empty"),
        (lambda path: path.write_bytes(b"\xff\xfe secret"), "not UTF-8"),
    ],
    ids=["missing", "a-directory", "empty", "binary"],
)
def test_an_unusable_secret_file_stops_the_start_naming_setting_and_path(
    tmp_path: Path, make: Any, problem: str
) -> None:
    path = tmp_path / "smtp_password"
    make(path)
    with pytest.raises(ValidationError) as caught:
        settings(smtp_password_file=path)
    message = str(caught.value)
    assert "SMTP_PASSWORD_FILE: " in message
    assert str(path) in message
    assert problem in message


def test_a_refused_secret_from_a_file_is_not_printed(tmp_path: Path) -> None:
    short = tmp_path / "jwt_secret"
    short.write_text("too-short-but-still-private")
    with pytest.raises(ValidationError, match="at least 32 bytes") as caught:
        settings(jwt_secret_file=short)
    assert "too-short-but-still-private" not in str(caught.value)


def test_production_takes_its_secrets_from_files(tmp_path: Path) -> None:
    (tmp_path / "jwt").write_text(STRONG + "\n")
    (tmp_path / "keys").write_text(FERNET_A + "\n")
    config = settings(
        environment="production",
        public_base_url="https://id.example.com",
        jwt_secret_file=tmp_path / "jwt",
        key_encryption_keys_file=tmp_path / "keys",
    )
    assert config.jwt_secret is not None
    assert config.jwt_secret.get_secret_value() == STRONG
    assert [key.get_secret_value() for key in config.key_encryption_keys] == [FERNET_A]
