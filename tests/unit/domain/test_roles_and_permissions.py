from datetime import UTC, datetime, timedelta

import pytest

from domain.access.events import RoleCreated, RoleDeleted, RoleUpdated
from domain.access.permissions import ALL_PERMISSIONS, Permission, parse_permissions
from domain.access.roles import (
    BuiltinRoleError,
    Role,
    RoleDefinition,
    builtin_role,
    permissions_of,
    role_name,
)
from domain.common.errors import InvalidValueError

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_permission_strings_parse_and_unknown_ones_are_refused() -> None:
    assert parse_permissions(["users:read", "audit:read", "users:read"]) == {
        Permission.USERS_READ,
        Permission.AUDIT_READ,
    }
    with pytest.raises(InvalidValueError) as caught:
        parse_permissions(["users:read", "users:delete-everything"], field="scopes")
    assert caught.value.field == "scopes"


def test_builtin_roles_grant_what_the_contract_says() -> None:
    assert builtin_role(Role.ADMIN, now=NOW).permissions == ALL_PERMISSIONS
    assert builtin_role(Role.USER, now=NOW).permissions == frozenset()
    assert builtin_role(Role.AUDITOR, now=NOW).permissions == {
        Permission.USERS_READ,
        Permission.AUDIT_READ,
        Permission.RELEASES_READ,
    }


def test_permissions_of_several_roles_is_their_union() -> None:
    support = RoleDefinition.create(
        name="support", permissions=frozenset({Permission.USERS_WRITE}), now=NOW
    )
    auditor = builtin_role(Role.AUDITOR, now=NOW)
    assert permissions_of([support, auditor]) == {
        Permission.USERS_WRITE,
        Permission.USERS_READ,
        Permission.AUDIT_READ,
        Permission.RELEASES_READ,
    }
    assert permissions_of([]) == frozenset()


@pytest.mark.parametrize("raw", ["a", "1abc", "has space", "x" * 33, "semi;colon"])
def test_bad_role_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValueError):
        role_name(raw)


def test_role_names_are_lower_cased() -> None:
    assert role_name("  Support-Team ") == "support-team"


def test_a_custom_role_records_its_life() -> None:
    role = RoleDefinition.create(name="support", permissions=frozenset(), now=NOW)
    assert isinstance(role.pull_events()[0], RoleCreated)
    later = NOW + timedelta(minutes=1)
    changed = role.change(
        now=later, name="helpdesk", permissions=frozenset({Permission.USERS_READ})
    )
    assert changed == ("name", "permissions")
    assert role.updated_at == later
    event = role.pull_events()[0]
    assert isinstance(event, RoleUpdated)
    assert (event.role, event.previous_name) == ("helpdesk", "support")
    assert role.change(now=later, name="helpdesk") == ()
    assert role.pull_events() == []
    role.delete(now=later)
    assert isinstance(role.pull_events()[0], RoleDeleted)


def test_builtin_roles_cannot_be_renamed_changed_or_deleted() -> None:
    admin = builtin_role(Role.ADMIN, now=NOW)
    with pytest.raises(BuiltinRoleError):
        admin.change(now=NOW, name="root")
    with pytest.raises(BuiltinRoleError):
        admin.change(now=NOW, permissions=frozenset())
    with pytest.raises(BuiltinRoleError):
        admin.delete(now=NOW)
    assert admin.change(now=NOW, name="admin") == ()  # no change is not a change
