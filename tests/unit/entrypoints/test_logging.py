"""Logged tracebacks name the frames, never their local variables: locals hold password
hashes, bearer headers and request bodies."""

import logging
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest
import structlog

from entrypoints.logging import configure_logging

SECRET = "$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0LWxvY2FsLXZhbHVl"
BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWxvY2Fs"


def verify_password(password_hash: str) -> NoReturn:
    authorization = BEARER  # a local, as a request handler's would be
    raise RuntimeError(f"verification failed ({len(password_hash)}, {len(authorization)})")


@pytest.fixture
def logging_restored() -> Iterator[None]:
    """configure_logging changes process-wide state; put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    uvicorn = {
        name: (logging.getLogger(name).handlers[:], logging.getLogger(name).propagate)
        for name in ("uvicorn", "uvicorn.error")
    }
    access_disabled = logging.getLogger("uvicorn.access").disabled
    config = structlog.get_config()
    yield
    structlog.configure(**config)
    root.handlers[:], root.level = handlers, level
    for name, (saved, propagate) in uvicorn.items():
        logging.getLogger(name).handlers[:] = saved
        logging.getLogger(name).propagate = propagate
    logging.getLogger("uvicorn.access").disabled = access_disabled
    logging.captureWarnings(False)


@pytest.mark.usefixtures("logging_restored")
@pytest.mark.parametrize("fmt", ["console", "json"])
def test_logged_tracebacks_leave_out_local_variables(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", fmt)
    try:
        verify_password(SECRET)
    except RuntimeError:
        structlog.get_logger("test").exception("login_failed")
        logging.getLogger("uvicorn.error").exception("stdlib_failure")
    output = capsys.readouterr()
    logs = output.out + output.err
    assert logs.count("RuntimeError: verification failed") == 2  # the traceback is there
    assert "verify_password" in logs
    assert SECRET not in logs
    assert BEARER not in logs


@pytest.mark.usefixtures("logging_restored")
def test_the_console_renderer_itself_formats_exceptions_without_locals() -> None:
    """Even with no format_exc_info before it (structlog suggests dropping that for pretty
    tracebacks), the console renderer must not print locals, as rich's default does."""
    configure_logging("INFO", "console")
    formatter = logging.getLogger().handlers[0].formatter
    assert isinstance(formatter, structlog.stdlib.ProcessorFormatter)
    renderer: Any = formatter.processors[-1]
    assert isinstance(renderer, structlog.dev.ConsoleRenderer)
    try:
        verify_password(SECRET)
    except RuntimeError:
        rendered = renderer(None, "error", {"event": "login_failed", "exc_info": sys.exc_info()})
    assert "RuntimeError: verification failed" in rendered
    assert SECRET not in rendered
    assert BEARER not in rendered
