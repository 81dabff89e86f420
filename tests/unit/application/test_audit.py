"""The audit trail: every audited action the use cases perform lands in it, with who,
on what, how it ended and from which request; nothing lands for a change that did not
commit; and it is read newest first, filtered and paged, with `audit:read`."""

import dataclasses
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import UnionType
from typing import Any
from uuid import UUID

import pytest

from adapters.crypto.key_factory import CryptographyKeyFactory
from adapters.memory import InMemoryUnitOfWork
from application.access.use_cases.authenticate_api_key import AuthenticateApiKeyCommand
from application.access.use_cases.manage_api_keys import CreateApiKeyCommand
from application.access.use_cases.manage_roles import (
    ChangeRoleCommand,
    CreateRole,
    CreateRoleCommand,
)
from application.audit.describe import describe
from application.audit.use_cases.list_audit_events import AuditQuery
from application.errors import PermissionDeniedError, StorageUnavailableError
from application.identity.attempts import LoginPolicy
from application.identity.use_cases.change_password import ChangePasswordCommand
from application.identity.use_cases.confirm_totp import ConfirmTotpCommand
from application.identity.use_cases.create_user import CreateUserCommand
from application.identity.use_cases.disable_totp import DisableTotpCommand
from application.identity.use_cases.refresh_session import RefreshSessionCommand
from application.identity.use_cases.setup_totp import SetupTotpCommand
from application.identity.use_cases.update_user import UpdateUserCommand
from application.identity.use_cases.verification import ResetPasswordCommand, VerifyEmailCommand
from application.identity.use_cases.verify_mfa import VerifyMfaCommand
from application.ports.audit_log import AuditFilter
from application.ports.request_context import RequestMeta
from application.releases.use_cases.manage_deployments import (
    ChangeDeploymentCommand,
    CreateDeploymentCommand,
)
from application.releases.use_cases.manage_environments import CreateEnvironmentCommand
from application.releases.use_cases.manage_releases import (
    ChangeReleaseCommand,
    CreateReleaseCommand,
)
from application.tokens.key_ring import KeyRing
from application.tokens.use_cases.manage_clients import (
    CreateClientCommand,
)
from application.tokens.use_cases.rotate_signing_key import RotateSigningKey
from domain.audit.entries import AuditDetail, Outcome
from domain.identity.events import UserRegistered
from domain.tokens.signing_keys import KeyAlgorithm
from tests.eventful import domain_event_types
from tests.unit.application.conftest import PASSWORD, App
from tests.unit.application.steps import (
    Enrolled,
    audit_rows,
    code_in,
    define_role,
    delivered,
    enrolled,
    member_of,
    mfa_challenge,
    totp_code,
)

META = RequestMeta(ip="192.0.2.10", user_agent="audit-test/1", request_id="req-42")
WRONG = "not the password"


SETUP = SetupTotpCommand(current_password=PASSWORD)


@dataclass(frozen=True)
class Expected:
    actor: UUID | None
    target: str | None
    outcome: Outcome = Outcome.SUCCESS
    details: dict[str, AuditDetail] = dataclasses.field(default_factory=dict)


Scenario = Callable[[App], Awaitable[Expected]]


async def _registered(app: App) -> Expected:
    ada = await app.sign_up("ada")
    return Expected(ada.id, str(ada.id))


async def _created(app: App) -> Expected:
    admin = await app.admin()
    app.context.meta = META
    bob = await app.create_user.execute(
        admin, CreateUserCommand(email="bob@example.com", username="bob", password=PASSWORD)
    )
    return Expected(admin.user_id, str(bob.id))


async def _logged_in(app: App) -> Expected:
    ada = await _signed_up(app)
    pair = await app.log_in_as("ada")
    return Expected(ada, str(ada), details={"session_id": str(pair.session_id)})


async def _login_failed(app: App) -> Expected:
    ada = await _signed_up(app)
    with pytest.raises(Exception, match="invalid"):
        await app.log_in_as("ada", password=WRONG)
    return Expected(None, str(ada), Outcome.FAILURE, details={"reason": "invalid_credentials"})


async def _refreshed(app: App) -> Expected:
    ada = await _signed_up(app)
    pair = await app.log_in_as("ada")
    await app.refresh_session.execute(RefreshSessionCommand(refresh_token=pair.refresh_token))
    return Expected(ada, str(ada), details={"session_id": str(pair.session_id)})


async def _refresh_reused(app: App) -> Expected:
    ada = await _signed_up(app)
    pair = await app.log_in_as("ada")
    command = RefreshSessionCommand(refresh_token=pair.refresh_token)
    await app.refresh_session.execute(command)
    with pytest.raises(Exception, match="already used"):
        await app.refresh_session.execute(command)
    return Expected(None, str(ada), Outcome.FAILURE, {"session_id": str(pair.session_id)})


async def _logged_out(app: App) -> Expected:
    ada = await _signed_up(app)
    principal = await app.principal_for(await app.log_in_as("ada"))
    await app.log_out.execute(principal)
    return Expected(
        ada, str(ada), details={"session_id": str(principal.session_id), "reason": "logout"}
    )


async def _session_revoked(app: App) -> Expected:
    ada = await _signed_up(app)
    other = await app.log_in_as("ada")
    principal = await app.principal_for(await app.log_in_as("ada"))
    await app.revoke_own_session.execute(principal, other.session_id)
    return Expected(
        ada, str(ada), details={"session_id": str(other.session_id), "reason": "revoked_by_user"}
    )


async def _password_changed(app: App) -> Expected:
    ada = await _signed_up(app)
    principal = await app.principal_for(await app.log_in_as("ada"))
    await app.change_password.execute(
        principal, ChangePasswordCommand(current_password=PASSWORD, new_password="a new secret!")
    )
    return Expected(ada, str(ada))


async def _password_reset(app: App) -> Expected:
    ada = await _signed_up(app)
    await app.request_password_reset.execute("ada@example.com")
    [mail] = await delivered(app)
    await app.reset_password.execute(
        ResetPasswordCommand(token=code_in(mail), new_password="a new secret!")
    )
    return Expected(ada, str(ada))


async def _email_verified(app: App) -> Expected:
    ada = await _signed_up(app)
    await app.request_email_verification.execute(
        await app.principal_for(await app.log_in_as("ada"))
    )
    [mail] = await delivered(app)
    await app.verify_email.execute(VerifyEmailCommand(token=code_in(mail)))
    return Expected(ada, str(ada))


async def _user_updated(app: App) -> Expected:
    admin = await app.admin()
    ada = await _signed_up(app)
    await app.update_user.execute(admin, ada, UpdateUserCommand(full_name="Ada L."))
    return Expected(admin.user_id, str(ada), details={"fields": "full_name"})


async def _user_deactivated(app: App) -> Expected:
    admin = await app.admin()
    ada = await _signed_up(app)
    await app.update_user.execute(admin, ada, UpdateUserCommand(is_active=False))
    return Expected(admin.user_id, str(ada))


async def _user_deleted(app: App) -> Expected:
    admin = await app.admin()
    ada = await _signed_up(app)
    await app.delete_user.execute(admin, ada)
    return Expected(admin.user_id, str(ada))


async def _roles_assigned(app: App) -> Expected:
    admin = await app.admin()
    ada = await _signed_up(app)
    await app.assign_roles.execute(admin, ada, ["user", "auditor"])
    return Expected(admin.user_id, str(ada), details={"roles": "auditor,user"})


async def _role_created(app: App) -> Expected:
    admin = await app.admin()
    app.context.meta = META
    await define_role(app, admin, "support", "users:read")
    return Expected(admin.user_id, "support")


async def _role_updated(app: App) -> Expected:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read")
    app.context.meta = META
    await app.change_role.execute(
        admin, "support", ChangeRoleCommand(name="helpdesk", permissions=[])
    )
    return Expected(
        admin.user_id,
        "helpdesk",
        details={"previous_name": "support", "fields": "name,permissions"},
    )


async def _role_deleted(app: App) -> Expected:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read")
    app.context.meta = META
    await app.delete_role.execute(admin, "support")
    return Expected(admin.user_id, "support")


async def _api_key(app: App, *, use: bool = False, revoke: bool = False) -> Expected:
    ada = await _signed_up(app)
    principal = await app.principal_for(await app.log_in_as("ada"))
    issued = await app.create_api_key.execute(
        principal, CreateApiKeyCommand(name="k", scopes=[], current_password=PASSWORD)
    )
    if use:
        await app.authenticate_api_key.execute(AuthenticateApiKeyCommand(key=issued.secret))
    if revoke:
        await app.revoke_api_key.execute(principal, issued.key.id)
    return Expected(ada, str(issued.key.id), details={"owner_id": str(ada)})


async def _api_key_created(app: App) -> Expected:
    return await _api_key(app)


async def _api_key_used(app: App) -> Expected:
    return await _api_key(app, use=True)


async def _api_key_revoked(app: App) -> Expected:
    return await _api_key(app, revoke=True)


async def _account_locked(app: App) -> Expected:
    ada = await _signed_up(app)
    for _ in range(2):
        with pytest.raises(Exception, match="invalid"):
            await app.log_in_as("ada", password=WRONG)
    until = app.clock.now() + LoginPolicy().lockout_base
    return Expected(None, str(ada), details={"until": until.isoformat()})


async def _account_unlocked(app: App) -> Expected:
    admin = await app.admin()
    ada = (await _account_locked(app)).target
    assert ada is not None
    await app.unlock_user.execute(admin, UUID(ada))
    return Expected(admin.user_id, ada)


async def _enrolled(app: App) -> Enrolled:
    """Ada with TOTP on, set up from another address."""
    app.context.meta = RequestMeta(ip="198.51.100.99", user_agent="setup", request_id="setup")
    ada = await enrolled(app, "ada")
    app.context.meta = META
    return ada


async def _mfa_enabled(app: App) -> Expected:
    ada = await _signed_up(app)
    principal = await app.principal_for(await app.log_in_as("ada"))
    setup = await app.setup_totp.execute(principal, SETUP)
    await app.confirm_totp.execute(principal, ConfirmTotpCommand(code=totp_code(app, setup.secret)))
    return Expected(ada, str(ada))


async def _mfa_disabled(app: App) -> Expected:
    ada = await _enrolled(app)
    await app.disable_totp.execute(
        ada.principal,
        DisableTotpCommand(current_password=PASSWORD, code=totp_code(app, ada.secret)),
    )
    return Expected(ada.principal.user_id, str(ada.principal.user_id))


async def _mfa_passed(app: App) -> Expected:
    ada = await _enrolled(app)
    token = await mfa_challenge(app, "ada")
    code = totp_code(app, ada.secret)
    await app.verify_mfa.execute(VerifyMfaCommand(mfa_token=token, code=code))
    user_id = ada.principal.user_id
    return Expected(user_id, str(user_id), details={"method": "totp"})


async def _recovery_code_used(app: App) -> Expected:
    ada = await _enrolled(app)
    token = await mfa_challenge(app, "ada")
    await app.verify_mfa.execute(VerifyMfaCommand(mfa_token=token, code=ada.recovery_codes[0]))
    user_id = ada.principal.user_id
    return Expected(user_id, str(user_id), details={"remaining": 9})


async def _signed_up(app: App) -> UUID:
    """Ada's account, created outside the audited request (from another address)."""
    app.context.meta = RequestMeta(ip="198.51.100.99", user_agent="setup", request_id="setup")
    ada = await app.sign_up("ada")
    app.context.meta = META
    return ada.id


async def _client(app: App, *, revoke: bool = False) -> Expected:
    admin = await app.admin()
    registered = await app.create_client.execute(
        admin, CreateClientCommand(name="billing", scopes=["users:read"])
    )
    if revoke:
        await app.revoke_client.execute(admin, registered.client.client_id)
    return Expected(admin.user_id, registered.client.client_id)


async def _client_created(app: App) -> Expected:
    return await _client(app)


async def _client_revoked(app: App) -> Expected:
    return await _client(app, revoke=True)


async def _key_rotated(app: App) -> Expected:
    admin = await app.admin()
    ring = KeyRing.stored(
        uow_factory=app.uow_factory,
        key_factory=CryptographyKeyFactory(),
        signing_algorithm=KeyAlgorithm.EDDSA,
        token_lifetime=timedelta(minutes=20),
        clock=app.clock,
    )
    await ring.ensure_key(KeyAlgorithm.EDDSA)
    first = ring.signing_key().kid
    new = await RotateSigningKey(ring).execute(admin)
    return Expected(admin.user_id, new.kid, details={"retired_kid": first})


async def _release(app: App, *, ready: bool = False) -> tuple[Any, Any]:
    admin = await app.admin()
    app.context.meta = META
    release = await app.create_release.execute(
        admin, CreateReleaseCommand(name="billing", version="1.0.0")
    )
    if ready:
        await app.change_release.execute(admin, release.id, ChangeReleaseCommand(status="ready"))
    return admin, release


async def _release_created(app: App) -> Expected:
    admin, release = await _release(app)
    return Expected(admin.user_id, str(release.id), details={"name": "billing", "version": "1.0.0"})


async def _release_status_changed(app: App) -> Expected:
    admin, release = await _release(app, ready=True)
    return Expected(admin.user_id, str(release.id), details={"from": "draft", "to": "ready"})


async def _release_updated(app: App) -> Expected:
    admin, release = await _release(app)
    await app.change_release.execute(admin, release.id, ChangeReleaseCommand(notes="changed"))
    return Expected(admin.user_id, str(release.id), details={"fields": "notes"})


async def _environment_created(app: App) -> Expected:
    admin = await app.admin()
    app.context.meta = META
    await app.create_environment.execute(admin, CreateEnvironmentCommand(name="staging"))
    return Expected(admin.user_id, "staging")


async def _deployment(app: App, *, start: bool = False) -> Expected:
    admin, release = await _release(app, ready=True)
    await app.create_environment.execute(admin, CreateEnvironmentCommand(name="staging"))
    deployment = await app.create_deployment.execute(
        admin, CreateDeploymentCommand(release_id=release.id, environment="staging")
    )
    if start:
        await app.change_deployment.execute(
            admin, deployment.id, ChangeDeploymentCommand(status="in_progress")
        )
        details: dict[str, AuditDetail] = {
            "environment": "staging",
            "from": "pending",
            "to": "in_progress",
        }
        return Expected(admin.user_id, str(deployment.id), details=details)
    details = {"release_id": str(release.id), "environment": "staging"}
    return Expected(admin.user_id, str(deployment.id), details=details)


async def _deployment_created(app: App) -> Expected:
    return await _deployment(app)


async def _deployment_status_changed(app: App) -> Expected:
    return await _deployment(app, start=True)


SCENARIOS: dict[str, Scenario] = {
    "release.created": _release_created,
    "release.status_changed": _release_status_changed,
    "release.updated": _release_updated,
    "environment.created": _environment_created,
    "deployment.created": _deployment_created,
    "deployment.status_changed": _deployment_status_changed,
    "client.created": _client_created,
    "client.revoked": _client_revoked,
    "key.rotated": _key_rotated,
    "user.registered": _registered,
    "user.created": _created,
    "auth.login/success": _logged_in,
    "auth.login/failure": _login_failed,
    "auth.refresh": _refreshed,
    "auth.refresh_reuse_detected": _refresh_reused,
    "auth.logout": _logged_out,
    "session.revoked": _session_revoked,
    "password.changed": _password_changed,
    "password.reset": _password_reset,
    "email.verified": _email_verified,
    "user.updated": _user_updated,
    "user.deactivated": _user_deactivated,
    "user.deleted": _user_deleted,
    "role.assigned": _roles_assigned,
    "role.created": _role_created,
    "role.updated": _role_updated,
    "role.deleted": _role_deleted,
    "api_key.created": _api_key_created,
    "api_key.first_used": _api_key_used,
    "api_key.revoked": _api_key_revoked,
    "account.locked": _account_locked,
    "account.unlocked": _account_unlocked,
    "mfa.enabled": _mfa_enabled,
    "mfa.disabled": _mfa_disabled,
    "auth.mfa_passed": _mfa_passed,
    "mfa.recovery_code_used": _recovery_code_used,
}


@pytest.mark.parametrize("case", list(SCENARIOS))
async def test_each_audited_action_lands_with_who_what_outcome_and_request(
    make_app: Callable[..., App], case: str
) -> None:
    app = make_app(login_policy=LoginPolicy(lockout_threshold=2))
    app.context.meta = META
    expected = await SCENARIOS[case](app)
    action, _, outcome = case.partition("/")

    rows = [
        r
        for r in await audit_rows(app, action=action)
        if r.outcome == (Outcome(outcome) if outcome else expected.outcome) and r.ip == META.ip
    ]

    assert len(rows) == 1, rows
    [row] = rows
    assert (row.actor_id, row.target_id, row.outcome) == (
        expected.actor,
        expected.target,
        expected.outcome,
    )
    assert (row.ip, row.user_agent, row.request_id) == ("192.0.2.10", "audit-test/1", "req-42")
    assert row.occurred_at == app.clock.now()
    assert row.details == expected.details


def _sample(annotation: object, text: str) -> object:
    if isinstance(annotation, UnionType):
        return _sample(typing.get_args(annotation)[0], text)
    samples: dict[object, object] = {
        UUID: UUID(int=1),
        datetime: datetime(2025, 1, 1, tzinfo=UTC),
        str: text,
        int: 1,
        tuple[str, ...]: (text,),
        float: 1.0,
    }
    return samples[annotation]


def test_the_scenarios_cover_every_audited_action() -> None:
    """Every action `describe` can produce has a scenario above: a new audited event
    fails here until a use case is shown to write it."""
    actions = set()
    for cls in domain_event_types():
        hints = typing.get_type_hints(cls)
        for text in ("x", "logout"):  # a session revoked by logging out is `auth.logout`
            values = {f.name: _sample(hints[f.name], text) for f in dataclasses.fields(cls)}
            event = typing.cast(Any, cls)(**values)
            described = describe(event)
            if described is not None:
                actions.add(described[0])
    assert actions == {case.partition("/")[0] for case in SCENARIOS}


async def test_an_unknown_account_failing_to_log_in_is_audited_without_a_target(
    app: App,
) -> None:
    with pytest.raises(Exception, match="invalid"):
        await app.log_in_as("ghost", password=WRONG)
    [row] = await audit_rows(app, action="auth.login")
    assert (row.actor_id, row.target_id, row.outcome) == (None, None, Outcome.FAILURE)


# --- nothing for what did not commit --------------------------------------------------------


async def test_an_audit_row_appended_in_a_rolled_back_transaction_is_gone(app: App) -> None:
    pipeline = app.container.pipeline()
    async with app.uow() as uow:
        event = UserRegistered(occurred_at=app.clock.now(), user_id=UUID(int=5))
        await pipeline.write(uow, [(event, None)], actor_id=None)
        assert len(await uow.audit.list(filter=AuditFilter(), after=None, limit=10)) == 1
    assert await audit_rows(app) == []


async def test_a_change_whose_commit_fails_leaves_neither_change_nor_audit_row(
    app: App,
) -> None:
    admin = await app.admin()
    before = await audit_rows(app)

    class FailingCommit(InMemoryUnitOfWork):
        async def commit(self) -> None:
            raise StorageUnavailableError()

    create_role = CreateRole(
        app.container.pipeline().units_of_work(lambda: FailingCommit(app.store)), app.clock
    )
    with pytest.raises(StorageUnavailableError):
        await create_role.execute(admin, CreateRoleCommand(name="support", permissions=[]))

    assert await audit_rows(app) == before
    assert "support" not in {r.name for r in await app.list_roles.execute(admin)}


async def test_a_refused_change_leaves_no_audit_row(app: App) -> None:
    admin = await app.admin()
    before = await audit_rows(app)
    with pytest.raises(Exception, match="last active administrator"):
        await app.assign_roles.execute(admin, admin.user_id, ["user"])
    with pytest.raises(Exception, match="last active administrator"):
        await app.update_user.execute(admin, admin.user_id, UpdateUserCommand(is_active=False))
    assert await audit_rows(app) == before


# --- ListAuditEvents ----------------------------------------------------------------------


async def test_reading_the_audit_trail_needs_audit_read(app: App) -> None:
    admin = await app.admin()
    await define_role(app, admin, "support", "users:read", "users:write")
    sam = await member_of(app, admin, "sam", "support")
    with pytest.raises(PermissionDeniedError, match="audit:read"):
        await app.list_audit_events.execute(sam, AuditQuery())
    auditor = await member_of(app, admin, "audrey", "auditor")
    page = await app.list_audit_events.execute(auditor, AuditQuery())
    assert page.items


async def test_the_trail_is_newest_first_and_paged_without_gaps(app: App) -> None:
    admin = await app.admin()
    for name in ("ada", "bob", "cyd", "dee", "eve"):
        await app.sign_up(name)
        app.clock.advance(seconds=1)
    everything = await audit_rows(app)
    assert [r.occurred_at for r in everything] == sorted(
        (r.occurred_at for r in everything), reverse=True
    )

    seen: list[UUID] = []
    after = None
    while True:
        page = await app.list_audit_events.execute(admin, AuditQuery(limit=2, after=after))
        assert len(page.items) <= 2
        seen += [r.id for r in page.items]
        if page.next_after is None:
            break
        assert page.next_after == page.items[-1].id
        after = page.next_after
    assert seen == [r.id for r in everything]


async def test_the_trail_is_filtered_by_actor_action_target_and_time(app: App) -> None:
    admin = await app.admin()
    app.clock.advance(seconds=10)
    start = app.clock.now()
    ada = await app.sign_up("ada")
    app.clock.advance(seconds=10)
    middle = app.clock.now()
    bob = await app.sign_up("bob")
    await app.update_user.execute(admin, bob.id, UpdateUserCommand(full_name="Bob"))

    async def query(**filters: object) -> list[tuple[str, str | None]]:
        page = await app.list_audit_events.execute(admin, AuditQuery(**filters))  # type: ignore[arg-type]
        return [(r.action, r.target_id) for r in page.items]

    assert await query(action="user.registered", since=start) == [
        ("user.registered", str(bob.id)),
        ("user.registered", str(ada.id)),
    ]
    assert await query(actor_id=admin.user_id, action="user.updated") == [
        ("user.updated", str(bob.id))
    ]
    assert await query(target_id=str(ada.id)) == [("user.registered", str(ada.id))]
    assert await query(action="user.registered", since=middle) == [("user.registered", str(bob.id))]
    assert await query(action="user.registered", since=start, until=middle) == [
        ("user.registered", str(ada.id))
    ]
    assert await query(action="user.registered", until=start) == [
        ("user.registered", str(admin.user_id))
    ]


@pytest.mark.parametrize(("asked", "given"), [(0, 1), (-5, 1), (1000, 100)])
async def test_the_page_size_is_kept_between_1_and_100(app: App, asked: int, given: int) -> None:
    admin = await app.admin()
    for i in range(100):
        await app.sign_up(f"user{i:03d}")
    page = await app.list_audit_events.execute(admin, AuditQuery(limit=asked))
    assert len(page.items) == given
    assert page.next_after == page.items[-1].id
