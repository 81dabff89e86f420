"""The `hexahub` command line as an operator uses it."""

import contextlib
import os
import re
import select
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ServerFactory

PASSWORD = "violet harbor lantern 7"


def hexahub(
    data_dir: Path, *args: str, stdin: str | None = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "FIRST_ADMIN"))
    }
    environ |= {"DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", **env}
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        env=environ,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version_names_the_installed_release(tmp_path: Path) -> None:
    result = hexahub(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"hexahub {version('hexahub')}"


def test_bare_hexahub_prints_help_listing_every_command(tmp_path: Path) -> None:
    result = hexahub(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: hexahub")
    for command in ("serve", "migrate", "create-admin", "keys"):
        assert re.search(rf"^\s+{command}\b", result.stdout, re.MULTILINE), command
    assert result.stderr == ""


def test_migrate_check_and_status_tell_pending_from_current(tmp_path: Path) -> None:
    status = hexahub(tmp_path, "migrate", "status")
    assert status.returncode == 0, status.stderr
    assert re.search(r"^current\s+none", status.stdout, re.MULTILINE)
    assert "0001_initial" in status.stdout
    pending = hexahub(tmp_path, "migrate", "--check")
    assert pending.returncode == 1
    assert "pending" in pending.stderr

    assert hexahub(tmp_path, "migrate").returncode == 0
    current = hexahub(tmp_path, "migrate", "--check")
    assert current.returncode == 0, current.stderr
    status = hexahub(tmp_path, "migrate", "status")
    assert re.search(r"^pending\s+none$", status.stdout, re.MULTILINE), status.stdout
    (newest,) = re.findall(r"^newest\s+(\S+)$", status.stdout, re.MULTILINE)
    assert re.search(rf"^current\s+{newest}$", status.stdout, re.MULTILINE)


@pytest.mark.parametrize("args", [["migrate"], ["migrate", "--check"], ["migrate", "status"]])
def test_in_memory_storage_needs_no_migrations(tmp_path: Path, args: list[str]) -> None:
    result = hexahub(tmp_path, *args, DATABASE_URL="memory://")
    assert result.returncode == 0, result.stderr
    assert "in-memory storage needs no migrations" in result.stdout
    assert not (tmp_path / "hexahub.db").exists()


def test_migrate_says_in_one_line_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://hexahub:s3cret-pw@127.0.0.1:9/hexahub"
    for args in (["migrate"], ["migrate", "--check"], ["migrate", "status"]):
        result = hexahub(tmp_path, *args, DATABASE_URL=url)
        assert result.returncode == 3, result.stderr
        assert result.stderr.startswith("hexahub: cannot reach the database at postgresql")
        assert len(result.stderr.strip().splitlines()) == 1
        assert "s3cret-pw" not in result.stderr


def test_migrate_prints_the_steps_without_alembic_start_up_noise(tmp_path: Path) -> None:
    result = hexahub(tmp_path, "migrate", LOG_LEVEL="INFO", LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    logs = result.stdout + result.stderr  # logs go to stdout, as a container's should
    assert "Running upgrade" in logs
    for noise in ("setup plugin", "Context impl", "Will assume"):
        assert noise not in logs


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


def test_create_admin_without_a_terminal_or_input_fails_in_one_line(tmp_path: Path) -> None:
    hexahub(tmp_path, "migrate")
    for stdin in (None, "", "\n"):
        result = hexahub(tmp_path, "create-admin", "--email", "ops@example.com", stdin=stdin)
        assert result.returncode == 2
        assert result.stderr.startswith("hexahub: no password given")
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


class Terminal:
    """`hexahub` on a pseudo-terminal: what an operator typing at a prompt sees."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIRST_ADMIN")}
        env |= {"DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
        self._master, slave = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {text!r} in {self.seen!r}"
            if select.select([self._master], [], [], remaining)[0]:
                try:
                    self.seen += os.read(self._master, 4096).decode(errors="replace")
                except OSError:  # the other end closed: the process has exited
                    assert text in self.seen, f"no {text!r} in {self.seen!r}"

    def type(self, line: str) -> None:
        os.write(self._master, f"{line}\n".encode())

    def finish(self) -> int:
        code = self.process.wait(timeout=60)
        with contextlib.suppress(OSError):
            while chunk := os.read(self._master, 4096):
                self.seen += chunk.decode(errors="replace")
        os.close(self._master)
        return code


def test_create_admin_on_a_terminal_asks_twice_without_echoing(tmp_path: Path) -> None:
    hexahub(tmp_path, "migrate")
    typo = Terminal(tmp_path, "create-admin", "--email", "ops@example.com")
    typo.expect("Password for the administrator:")
    typo.type(PASSWORD)
    typo.expect("Repeat the password:")
    typo.type(PASSWORD + "x")
    assert typo.finish() == 2
    assert "the passwords do not match" in typo.seen

    terminal = Terminal(tmp_path, "create-admin", "--email", "ops@example.com")
    terminal.expect("Password for the administrator:")
    terminal.type(PASSWORD)
    terminal.expect("Repeat the password:")
    terminal.type(PASSWORD)
    assert terminal.finish() == 0, terminal.seen
    assert "administrator admin created" in terminal.seen
    assert PASSWORD not in terminal.seen  # never echoed


def test_a_piped_password_containing_the_default_username_signs_the_admin_in(
    server_factory: ServerFactory,
) -> None:
    server = server_factory()
    password = "Admin of the violet harbor"
    created = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "create-admin", "--email", "ops@example.com"],
        env={k: v for k, v in server.env.items() if not k.startswith("FIRST_ADMIN")},
        input=f"{password}\n",  # no --password-stdin: there is no terminal to ask on
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert "administrator admin created" in created.stdout
    login = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"username": "admin", "password": password}
    )
    assert login.status_code == 200, login.text
    me = httpx.get(
        f"{server.url}/api/v1/auth/me",
        headers={"Authorization": f"Bearer {login.json()['access_token']}"},
    )
    assert "admin" in me.json()["roles"]


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
