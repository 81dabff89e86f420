"""The log stream as an operator collects it: JSON lines on standard output (nothing on
standard error), and every line of a request that came with a W3C `traceparent`
carrying the caller's trace id, with no trace exporter configured."""

import json
from typing import Any

import httpx
import pytest
import structlog

from entrypoints.logging import configure_logging
from entrypoints.tracing import tracer_provider
from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import new_identity
from tests.unit.entrypoints.test_logging import logging_restored as logging_restored

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def json_logs(app_factory: AppFactory, logging_restored: None) -> None:
    """Puts the logging set-up back (`logging_restored`) before the apps stop, so their
    last lines do not go to a closed capture."""


def log_json() -> None:
    """The service's own log pipeline, in JSON. Called in the test itself: capsys swaps
    standard output only once the test runs. No logger is cached meanwhile: one cached
    now would keep writing through this pipeline in later tests."""
    configure_logging("INFO", "json")
    structlog.configure(cache_logger_on_first_use=False)


async def _lines_of(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str], **headers: str
) -> list[dict[str, Any]]:
    """Register an account (a request that logs several lines); the JSON lines logged
    for it, found by its request id."""
    capsys.readouterr()
    answer = await client.post("/api/v1/auth/register", json=new_identity(), headers=headers)
    assert answer.status_code == 201, answer.text
    output = capsys.readouterr()
    assert output.err == ""
    lines = [json.loads(line) for line in output.out.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == answer.headers["x-request-id"]]
    assert len(mine) >= 2, output.out  # the registration event and the access line
    return mine


@pytest.mark.usefixtures("json_logs")
async def test_a_callers_trace_id_is_on_every_line_of_its_request(
    app_factory: AppFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tracer_provider() is None, "this is about logs without any trace exporter"
    client = await app_factory(database_url="memory://", _fake_hasher=True)
    log_json()

    traced = await _lines_of(client, capsys, traceparent=TRACEPARENT)
    assert {line["event"] for line in traced} >= {"user_registered", "request"}
    assert {line.get("trace_id") for line in traced} == {TRACE_ID}

    # A later version may add fields; its trace id still counts (W3C Trace Context §3.3).
    future = await _lines_of(client, capsys, traceparent=f"cc-{TRACE_ID}-00f067aa0ba902b7-01-x")
    assert {line.get("trace_id") for line in future} == {TRACE_ID}

    assert {line.get("trace_id") for line in await _lines_of(client, capsys)} == {None}


@pytest.mark.usefixtures("json_logs")
@pytest.mark.parametrize(
    "traceparent",
    [
        TRACEPARENT.upper(),  # hex is lower case
        f"ff-{TRACE_ID}-00f067aa0ba902b7-01",  # version ff is invalid
        f"00-{'0' * 32}-00f067aa0ba902b7-01",  # all-zero trace id
        f"00-{TRACE_ID}-{'0' * 16}-01",  # all-zero parent id
        f"00-{TRACE_ID}-00f067aa0ba902b7-01-extra",  # version 00 has exactly four fields
        f"00-{TRACE_ID[:-1]}-00f067aa0ba902b7-01",
        "00-not-a-trace",
        f"00-{TRACE_ID}-00f067aa0ba902b7-01\n{{}}",
    ],
)
async def test_an_invalid_traceparent_is_ignored(
    app_factory: AppFactory, capsys: pytest.CaptureFixture[str], traceparent: str
) -> None:
    client = await app_factory(database_url="memory://", _fake_hasher=True)
    log_json()
    lines = await _lines_of(client, capsys, traceparent=traceparent)
    assert {line.get("trace_id") for line in lines} == {None}
