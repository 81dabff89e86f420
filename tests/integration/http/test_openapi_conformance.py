"""Schemathesis over the whole OpenAPI document, with every check, against the app in
process (in-memory adapters, rate limits off), signed in as an administrator.

Every phase runs (examples, coverage, fuzzing, stateful), and every built-in check:
no 5xx; status codes, content types, headers and bodies as documented; data the schema
allows is accepted and data it forbids is refused; undocumented methods answer 405 with
a complete `Allow`, and `OPTIONS` lists exactly the documented ones; authentication is
enforced where declared.

Schemathesis generates from an approximation of Unicode property classes (`\\p{C}`), so a
"positive" case may carry, say, an unassigned code point the schema forbids: such cases
are dropped before they are sent (`DocumentOracle`), with the document as the judge.

Two things a generator cannot know are given to it, each narrowly:
- passwords that pass the policy's unschematisable rules (not the username, not a common
  password) come from `policy_passwords`, registered for `format: password`;
- `STATEFUL_REFUSALS` lists the answers that depend on a secret or on state rather than
  on the request's shape (a wrong current password, or a missing one where only an
  account without a password may leave it out, an unknown one-time token, a forged
  cursor, a role that does not exist, an expiry already past). A schema-valid request
  refused for any other reason fails the run.

`HEXAHUB_SCHEMATHESIS_SEED` and `HEXAHUB_SCHEMATHESIS_EXAMPLES` widen a local run.
"""

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import jwt
import pytest
import schemathesis
from dependency_injector import providers
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.python import asgi

from adapters.memory.password_hasher import FakePasswordHasher
from domain.access.permissions import Permission
from entrypoints.container import Container
from entrypoints.http.app import create_app
from tests.integration.http.conftest import ADMIN, make_settings

SEED = int(os.environ.get("HEXAHUB_SCHEMATHESIS_SEED", "1066"))
# Bounds the fuzzing phase (the coverage phase follows the document); a local run can ask
# for more.
MAX_EXAMPLES = int(os.environ.get("HEXAHUB_SCHEMATHESIS_EXAMPLES", "8"))
LOGIN = "/api/v1/auth/login"


def policy_passwords() -> st.SearchStrategy[str]:
    """Passwords of Greek letters and spaces: they can never contain a username or an
    email address (ASCII) nor be one of the common passwords, so the only rules left are
    the lengths, which the schema carries."""
    return st.text(alphabet="αβγδεζηθικλμνξοπρστυφχψω ", min_size=8, max_size=64)


@dataclass(frozen=True)
class Refusal:
    """A refusal of well-formed data that only state or a secret explains."""

    status: int
    error: str
    loc: tuple[str, ...] | None
    why: str

    def matches(self, status: int, body: Any) -> bool:
        if status != self.status or not isinstance(body, dict) or body.get("error") != self.error:
            return False
        if self.loc is None:
            return True
        return any(tuple(d.get("loc", ())) == self.loc for d in body.get("details") or ())


STATEFUL_REFUSALS: dict[str, tuple[Refusal, ...]] = {
    "changeOwnPassword": (
        Refusal(400, "bad_request", ("body", "current_password"), "the password is a secret"),
    ),
    "setupTotp": (
        Refusal(400, "bad_request", ("body", "current_password"), "the password is a secret"),
    ),
    # Changing the email or username, and issuing a key, re-authenticate: the password may
    # be missing from a valid body (an account without one proves a recent sign-in).
    "updateOwnProfile": (
        Refusal(400, "bad_request", ("body", "current_password"), "the password is a secret"),
    ),
    "verifyEmail": (Refusal(400, "invalid_token", None, "one-time tokens are mailed"),),
    "confirmPasswordReset": (Refusal(400, "invalid_token", None, "one-time tokens are mailed"),),
    "listUsers": (
        Refusal(400, "bad_request", None, "cursors are signed by the service"),
        Refusal(422, "validation_error", ("query", "role"), "the role must exist"),
    ),
    "listAuditEvents": (Refusal(400, "bad_request", None, "cursors are signed by the service"),),
    "createUser": (Refusal(422, "validation_error", ("body", "roles"), "roles must exist"),),
    "replaceUser": (Refusal(422, "validation_error", ("body", "roles"), "roles must exist"),),
    "updateUser": (Refusal(422, "validation_error", ("body", "roles"), "roles must exist"),),
    "assignRoles": (Refusal(422, "validation_error", ("body", "roles"), "roles must exist"),),
    "createApiKey": (
        Refusal(422, "validation_error", ("body", "expires_at"), "the expiry must be ahead"),
        Refusal(400, "bad_request", ("body", "current_password"), "the password is a secret"),
    ),
    "listReleases": (Refusal(400, "bad_request", None, "cursors are signed by the service"),),
    "listDeployments": (Refusal(400, "bad_request", None, "cursors are signed by the service"),),
    "createEnvironment": (
        Refusal(422, "validation_error", ("body", "requires"), "requirements must exist"),
    ),
    "createRelease": (
        Refusal(422, "validation_error", ("header", "Idempotency-Key"), "a key used before"),
    ),
    "createDeployment": (
        Refusal(422, "validation_error", ("header", "Idempotency-Key"), "a key used before"),
    ),
    "createWebhook": (
        Refusal(422, "validation_error", ("body", "url"), "the host must resolve, publicly"),
    ),
    "updateWebhook": (
        Refusal(422, "validation_error", ("body", "url"), "the host must resolve, publicly"),
    ),
    "listWebhookDeliveries": (
        Refusal(400, "bad_request", None, "cursors are signed by the service"),
    ),
}


def is_stateful_refusal(failure: Any, case: Any, response: Any) -> bool:
    if not isinstance(failure, RejectedPositiveData):
        return False
    refusals = STATEFUL_REFUSALS.get(case.operation.definition.raw.get("operationId"), ())
    try:
        body = response.json()
    except ValueError:
        return False
    return any(r.matches(response.status_code, body) for r in refusals)


class DocumentOracle:
    """Judges generated values by the document itself (jsonschema_rs: JSON Schema 2020-12
    with full Unicode property classes)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._components = document.get("components", {})
        self._bodies: dict[str, Any] = {}
        self._parameters: dict[tuple[str, str], Any] = {}
        for item in document["paths"].values():
            for operation in item.values():
                op = operation["operationId"]
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    self._bodies[op] = self._validator(media["schema"])
                for parameter in operation.get("parameters", ()):
                    key = (op, parameter["name"])
                    self._parameters[key] = self._validator(parameter["schema"])

    def _validator(self, schema: dict[str, Any]) -> Any:
        return jsonschema_rs.validator_for({**schema, "components": self._components})

    def allows(self, case: Any) -> bool:
        """False for a case generated as valid that the document does not allow."""
        if case.meta is None or not case.meta.generation.mode.is_positive:
            return True
        op = case.operation.definition.raw["operationId"]
        body = self._bodies.get(op)
        if body is not None and isinstance(case.body, dict) and not body.is_valid(case.body):
            return False
        return all(
            self._parameters[(op, name)].is_valid(value)
            for container in (case.query, case.path_parameters)
            for name, value in (container or {}).items()
            if isinstance(value, str) and (op, name) in self._parameters
        )


class SignedIn:
    """Signs a person in (again after a logout), following renames: a PATCH of one's own
    username is part of what gets tested."""

    def __init__(self, app: Any, username: str, password: str) -> None:
        self.app = app
        self.username = username
        self.password = password
        self.user_id: str | None = None

    def __call__(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}

    def token(self) -> str:
        with asgi.get_client(self.app) as client:
            response = client.post(
                f"http://{asgi.HOST}{LOGIN}",
                json={"username": self.username, "password": self.password},
            )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        self.user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
        return token

    def follow(self, response: Any) -> None:
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and body.get("id") == self.user_id and "username" in body:
            self.username = body["username"]


class AdminApiKey:
    """An administrator's API key with every scope, created anew when refused (a key may
    revoke itself)."""

    def __init__(self, session: SignedIn) -> None:
        self.session = session

    def __call__(self) -> dict[str, str]:
        with asgi.get_client(self.session.app) as client:
            response = client.post(
                f"http://{asgi.HOST}/api/v1/api-keys",
                json={
                    "name": "conformance",
                    "scopes": [p.value for p in Permission],
                    "current_password": self.session.password,
                },
                headers=self.session(),
            )
        assert response.status_code == 201, response.text
        return {"X-API-Key": response.json()["key"]}


@dataclass
class Finding:
    phase: str
    operation: str
    check: str
    title: str
    message: str
    reproduce: str
    answer: str

    def __str__(self) -> str:
        return (
            f"[{self.phase}] {self.operation} — {self.check}: {self.title}\n"
            f"    {self.message.strip().replace(chr(10), chr(10) + '    ')}\n"
            f"    {self.reproduce}\n    => {self.answer}"
        )


def findings(stream: Iterator[events.EngineEvent], tested: set[str]) -> Iterator[Finding]:
    started = time.monotonic()
    for event in stream:
        if isinstance(event, events.PhaseFinished):
            # Shown with -s: where the run's time goes.
            at = time.monotonic() - started
            print(f"{event.phase.name.value}: {event.status.name} at {at:.1f} s")
        if isinstance(event, events.NonFatalError):
            phase = event.phase.name if event.phase else "-"
            error = event.value
            yield Finding(phase, event.label, "error", type(error).__name__, str(error), "", "")
        if isinstance(event, events.FatalError):
            error = event.exception
            yield Finding("-", "-", "fatal", type(error).__name__, str(error), "", "")
        if not isinstance(event, events.ScenarioFinished):
            continue
        if event.phase.name == "FUZZING" and event.status is Status.SUCCESS and event.label:
            tested.add(event.label)
        if event.status not in (Status.FAILURE, Status.ERROR):
            continue
        for case_id, checks in event.recorder.checks.items():
            interaction = event.recorder.interactions.get(case_id)
            response = interaction.response if interaction else None
            answer = (
                f"{response.status_code} {response.content[:400].decode(errors='replace')}"
                if response is not None
                else "no response"
            )
            for check in checks:
                if check.failure_info is None:
                    continue
                failure = check.failure_info.failure
                yield Finding(
                    event.phase.name,
                    event.label or "stateful",
                    check.name,
                    failure.title,
                    failure.message,
                    check.failure_info.code_sample,
                    answer,
                )


@pytest.fixture
def conformance_app(tmp_path: Path) -> Iterator[Any]:
    settings = make_settings(
        tmp_path,
        database_url="memory://",
        # Fuzzed logins name the administrator too; a lockout would end the session.
        lockout_threshold=1000,
        **ADMIN,
    )
    container = Container(settings=providers.Object(settings))
    container.password_hasher.override(providers.Singleton(FakePasswordHasher))
    app = create_app(settings, container)
    yield app
    asgi.shutdown_lifespans()


def run(app: Any, credentials: Callable[[], dict[str, str]], settings: dict[str, Any]) -> set[str]:
    """One Schemathesis run over the whole document, with `credentials()` as the headers
    that authenticate every request (fetched again after a 401). Fails on any finding;
    returns the operations fuzzed without one."""
    schemathesis.openapi.format("password", policy_passwords())
    # No example database: the seed makes the run repeatable, and nothing is written.
    generation = {"max-examples": MAX_EXAMPLES, "database": "none"} | settings.pop("generation", {})
    config = SchemathesisConfig.from_dict({"seed": SEED, "generation": generation, **settings})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    schema.auth()(_provider(credentials))
    oracle = DocumentOracle(schema.raw_schema)

    @schema.hook
    def filter_case(context: Any, case: Any) -> bool:
        return oracle.allows(case)

    @schema.hook
    def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
        return not is_stateful_refusal(failure, case, response)

    if isinstance(credentials, SignedIn):

        @schema.hook
        def after_call(context: Any, case: Any, response: Any) -> None:
            credentials.follow(response)

    started = time.monotonic()
    tested: set[str] = set()
    found = list(findings(schemathesis.engine.from_schema(schema).execute(), tested))
    elapsed = time.monotonic() - started
    unique = {(f.operation, f.check, f.title): f for f in found}
    report = "\n\n".join(str(f) for f in unique.values())
    assert not unique, f"{len(unique)} distinct findings in {elapsed:.0f} s:\n\n{report}"
    return tested


def documented_operations(app: Any) -> set[str]:
    document = app.openapi()
    return {
        f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item
    }


def administrator(app: Any) -> SignedIn:
    return SignedIn(app, "admin", ADMIN["first_admin_password"])


# Valid requests only, a few per operation: the full run covers invalid ones.
BRIEF = {
    "generation": {"max-examples": 3, "mode": "positive"},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
}


def test_schemathesis_finds_nothing_across_the_whole_document(conformance_app: Any) -> None:
    tested = run(conformance_app, administrator(conformance_app), {})
    # Nothing skipped: every documented operation was fuzzed and passed.
    assert documented_operations(conformance_app) <= tested


def test_what_an_api_key_is_told_is_documented_too(conformance_app: Any) -> None:
    """Keys are refused what needs a person at a login (403): documented as well."""
    tested = run(conformance_app, AdminApiKey(administrator(conformance_app)), dict(BRIEF))
    assert documented_operations(conformance_app) <= tested


def test_what_a_user_without_permissions_is_told_is_documented_too(
    conformance_app: Any,
) -> None:
    """The administration answers 403 to a plain user: documented as well."""
    with asgi.get_client(conformance_app) as client:
        registered = client.post(
            f"http://{asgi.HOST}/api/v1/auth/register",
            json={"email": "plain@example.com", "username": "plain", "password": "ample orbit 1"},
        )
    assert registered.status_code == 201, registered.text
    tested = run(conformance_app, SignedIn(conformance_app, "plain", "ample orbit 1"), dict(BRIEF))
    assert documented_operations(conformance_app) <= tested


def _provider(credentials: Callable[[], dict[str, str]]) -> type:
    class Credentials:
        def get(self, case: Any, context: Any) -> dict[str, str]:
            return credentials()

        def set(self, case: Any, data: dict[str, str], context: Any) -> None:
            case.headers = {**(case.headers or {}), **data}

    return Credentials
