"""Story steps shared by the role, API key, audit and mail tests: people holding custom
roles, the audit trail as stored, and the one-time code a mail carries."""

import re
from uuid import UUID

from application.ports.audit_log import AuditFilter
from application.security import Principal
from application.use_cases.roles.manage_roles import CreateRoleCommand
from application.use_cases.users.create_user import CreateUserCommand
from domain.audit import AuditEvent
from domain.mail import MailMessage
from domain.roles import RoleDefinition
from tests.unit.application.conftest import PASSWORD, App

_CODE = re.compile(r"submitting this code: (\S+)")


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
