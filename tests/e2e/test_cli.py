"""The `hexahub` command line as an operator uses it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PASSWORD = "violet harbor lantern 7"


def hexahub(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "FIRST_ADMIN"))}
    env |= {"DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_migrate_then_create_admin_once(tmp_path: Path) -> None:
    assert hexahub(tmp_path, "migrate").returncode == 0
    first = hexahub(
        tmp_path, "create-admin", "--email", "ops@example.com", "--password-stdin", stdin=PASSWORD
    )
    assert first.returncode == 0, first.stderr
    assert "administrator admin created" in first.stdout
    again = hexahub(
        tmp_path, "create-admin", "--email", "ops2@example.com", "--password-stdin", stdin=PASSWORD
    )
    assert again.returncode == 0
    assert "already exists" in again.stdout
    assert PASSWORD not in first.stdout + first.stderr + again.stdout + again.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["create-admin", "--password-stdin"], PASSWORD, "--email"),
        (["create-admin", "--email", "ops@example.com", "--password-stdin"], "short", "at least"),
    ],
)
def test_create_admin_explains_refusals(
    tmp_path: Path, args: list[str], stdin: str, message: str
) -> None:
    hexahub(tmp_path, "migrate")
    result = hexahub(tmp_path, *args, stdin=stdin)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("secret", ["", "changeme", "a-real-but-too-short-secret"])
def test_invalid_configuration_stops_without_echoing_secrets(tmp_path: Path, secret: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "migrate"],
        env={
            **os.environ,
            "DATA_DIR": str(tmp_path),
            "ENVIRONMENT": "production",
            "JWT_SECRET": secret,
            "FIRST_ADMIN_PASSWORD": "the-admin-passphrase",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "JWT_SECRET" in result.stderr
    assert "the-admin-passphrase" not in result.stderr
    if secret:
        assert secret not in result.stderr


@pytest.mark.parametrize("problem", ["missing", "both", "short"])
def test_a_bad_secret_file_stops_the_start_with_one_clear_line(
    tmp_path: Path, problem: str
) -> None:
    secret = tmp_path / "jwt_secret"
    if problem != "missing":
        secret.write_text("a-private-but-short-secret\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "DATABASE_"))}
    env |= {"DATA_DIR": str(tmp_path), "JWT_SECRET_FILE": str(secret)}
    if problem == "both":
        env["JWT_SECRET"] = "another-private-value-that-is-long-enough-0123"
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "JWT_SECRET" in result.stderr
    for private in ("a-private-but-short-secret", "another-private-value"):
        assert private not in result.stdout + result.stderr
    expected = {
        "missing": f"JWT_SECRET_FILE: cannot read {secret} (No such file or directory)",
        "both": "JWT_SECRET and JWT_SECRET_FILE are both set",
        "short": "JWT_SECRET must be at least 32 bytes",
    }[problem]
    assert expected in result.stderr
