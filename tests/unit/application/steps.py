"""Story steps shared by the role, API key, audit, mail and MFA tests: people holding
custom roles, the audit trail as stored, the one-time code a mail carries, and an
account with an authenticator app."""

import re
from dataclasses import dataclass
from uuid import UUID

import pyotp
import pytest

from application.access.use_cases.manage_roles import CreateRoleCommand
from application.common.security import Principal
from application.errors import MfaRequiredError
from application.identity.use_cases.confirm_totp import ConfirmTotpCommand
from application.identity.use_cases.create_user import CreateUserCommand
from application.identity.use_cases.setup_totp import SetupTotpCommand
from application.ports.audit_log import AuditFilter
from domain.access.roles import RoleDefinition
from domain.audit.entries import AuditEvent
from domain.mail.messages import MailMessage
from tests.unit.application.conftest import PASSWORD, App

_CODE = re.compile(r"submitting this code: (\S+)")


SETUP = SetupTotpCommand(current_password=PASSWORD)


async def define_role(app: App, admin: Principal, name: str, *permissions: str) -> RoleDefinition:
    return await app.create_role.execute(
        admin, CreateRoleCommand(name=name, permissions=list(permissions))
    )


async def member_of(app: App, admin: Principal, username: str, *roles: str) -> Principal:
    """An account created by `admin` with `roles`, logged in once."""
    await app.create_user.execute(
        admin,
        CreateUserCommand(
            email=f"{username}@example.com",
            username=username,
            password=PASSWORD,
            roles=list(roles),
            is_verified=True,
        ),
    )
    return await app.principal_for(await app.log_in_as(username))


async def audit_rows(
    app: App,
    *,
    action: str | None = None,
    actor_id: UUID | None = None,
    target_id: str | None = None,
) -> list[AuditEvent]:
    """The stored audit trail, newest first."""
    async with app.uow() as uow:
        return await uow.audit.list(
            filter=AuditFilter(action=action, actor_id=actor_id, target_id=target_id),
            after=None,
            limit=10_000,
        )


async def delivered(app: App) -> list[MailMessage]:
    """Send whatever mail is due and return every mail sent so far."""
    while await app.mailer.dispatch_due():
        pass
    return app.notifier.sent


def code_in(message: MailMessage) -> str:
    match = _CODE.search(message.text)
    assert match is not None, message.text
    return match.group(1)


@dataclass(frozen=True)
class Enrolled:
    principal: Principal
    secret: str
    recovery_codes: tuple[str, ...]


def totp_code(app: App, secret: str, *, steps: int = 0) -> str:
    """What the authenticator app shows now (or `steps` time steps away)."""
    return pyotp.TOTP(secret).at(app.clock.now(), counter_offset=steps)


async def enrolled(app: App, username: str) -> Enrolled:
    """A new account, logged in, with TOTP confirmed; the clock then moves one step on,
    so the code used to confirm is history and the app shows a fresh one."""
    principal = await app.signed_in(username)
    setup = await app.setup_totp.execute(principal, SETUP)
    codes = await app.confirm_totp.execute(
        principal, ConfirmTotpCommand(code=totp_code(app, setup.secret))
    )
    app.clock.advance(seconds=30)
    return Enrolled(principal, setup.secret, codes.codes)


async def mfa_challenge(app: App, login: str, *, password: str = PASSWORD) -> str:
    """The `mfa_token` a right password earns on an account with MFA on."""
    with pytest.raises(MfaRequiredError) as challenge:
        await app.log_in_as(login, password=password)
    return challenge.value.mfa_token
