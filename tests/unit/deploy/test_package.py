"""The image installs HexaHub from its wheel, not from a source tree: the wheel must carry
the Alembic scripts, and `hexahub migrate` must work from the installed package alone.
Also the Dockerfile's promises: a base pinned by digest, OCI labels, a health check, a
non-root user, and hadolint's rules."""

import os
import re
import sys
import zipfile
from pathlib import Path

import pytest

from tests.unit.deploy.tools import ROOT, run, tool

DOCKERFILE = ROOT / "deploy" / "Dockerfile"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Without build isolation: setuptools comes from the dev lock, nothing is downloaded.
    result = run(
        sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
        "--wheel-dir", out, ROOT, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (built,) = out.glob("hexahub-*.whl")
    return built


def test_the_wheel_carries_every_migration(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    scripts = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "migrations").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert scripts
    assert scripts <= names, sorted(scripts - names)
    assert "migrations/env.py" in names
    assert "entrypoints/cli.py" in names


def test_hexahub_migrate_works_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    installed = run(
        sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
        "--target", site, wheel, timeout=300,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    # The installed copy first on the path, run from a directory with no source tree;
    # the dependencies come from this environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    env |= {"PYTHONPATH": str(site), "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"}
    work = tmp_path / "elsewhere"
    work.mkdir()

    def hexahub(*args: str) -> tuple[int, str]:
        result = run(sys.executable, "-m", "entrypoints.cli", *args, cwd=work, env=env)
        return result.returncode, result.stdout + result.stderr

    where = run(
        sys.executable, "-c", "import entrypoints, migrations; "
        "print(entrypoints.__file__); print(migrations.__file__)",
        cwd=work, env=env,
    )  # fmt: skip
    assert all(Path(line).is_relative_to(site) for line in where.stdout.split()), where.stdout
    assert hexahub("migrate", "--check")[0] == 1
    assert hexahub("migrate") == (0, "hexahub: database is at the newest migration\n")
    code, output = hexahub("migrate", "--check")
    assert code == 0, output


def dockerfile() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


def test_every_base_image_is_pinned_by_digest() -> None:
    text = dockerfile()
    (default,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.MULTILINE)
    assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", default), default
    for base in re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE):
        assert base == "${PYTHON_IMAGE}", base


def test_the_image_is_labelled_health_checked_and_not_root() -> None:
    text = dockerfile()
    for label in ("title", "version", "revision", "created", "source", "licenses"):
        assert f"org.opencontainers.image.{label}=" in text, label
    assert re.search(r"^HEALTHCHECK .*\n\s+CMD .*/health", text, re.MULTILINE)
    (user,) = re.findall(r"^USER\s+(\S+)$", text, re.MULTILINE)
    assert not user.startswith(("0", "root"))
    assert not re.search(r"pip install[^\n]*(-e|--editable)\b", text)
    assert "COPY src" not in text.split("AS runtime", 1)[1]  # no source tree at run time


def test_hadolint_accepts_the_dockerfile() -> None:
    result = run(tool("hadolint"), "--failure-threshold", "warning", DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
