"""The authenticated caller and the permission checks use cases apply to it."""

from dataclasses import dataclass
from uuid import UUID

from application.errors import PermissionDeniedError, SessionRequiredError
from domain.access.permissions import Permission, parse_permissions
from domain.common.errors import InvalidValueError
from domain.identity.user import User


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is calling and what it may do now: a person in a login session, an API key
    acting as its owner within its scopes, or a service client (no user at all)."""

    user: User | None
    permissions: frozenset[Permission]
    session_id: UUID | None = None
    api_key_id: UUID | None = None
    client_id: str | None = None

    @property
    def account(self) -> User:
        """The user behind the call; service clients have none."""
        if self.user is None:
            raise PermissionDeniedError("this action needs a user account, not a service client")
        return self.user

    @property
    def user_id(self) -> UUID:
        return self.account.id

    @property
    def actor_id(self) -> UUID | None:
        """Who to name in the audit trail: the user, or None for a service client."""
        return self.user.id if self.user is not None else None

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise PermissionDeniedError(f"missing permission {permission.value}")

    def require_self_or(self, user_id: UUID, permission: Permission) -> None:
        """Anyone may act on their own account; acting on others needs `permission`."""
        if user_id != self.actor_id:
            self.require(permission)

    def require_session(self) -> UUID:
        """Some actions belong to a person at a login, never to a key or a client."""
        if self.session_id is None:
            raise SessionRequiredError()
        return self.session_id

    def may_manage(self, target_id: UUID, target_permissions: frozenset[Permission]) -> None:
        """Nobody changes an account more powerful than themselves: its email (and so its
        password resets), its roles, its state. One's own account is always one's own."""
        if target_id == self.actor_id:
            # A key rewriting its own owner (email, roles) would dodge the session rule.
            self.require_session()
        elif not target_permissions <= self.permissions:
            raise PermissionDeniedError("cannot manage an account with permissions you lack")

    def may_grant(self, permissions: frozenset[Permission]) -> None:
        """No self-escalation: nobody hands out (to a role, a user, a key or a client) a
        permission they do not hold themselves."""
        missing = permissions - self.permissions
        if missing:
            names = ", ".join(sorted(p.value for p in missing))
            raise PermissionDeniedError(f"cannot grant permissions you do not hold: {names}")

    def credential(self, name: str, scopes: list[str]) -> tuple[str, frozenset[Permission]]:
        """The name and scopes of a credential this caller issues (an API key, a
        service client): 1-100 printable characters, and known permissions the caller
        holds (no escalation through what it hands out)."""
        name = name.strip()
        if not 1 <= len(name) <= 100 or not name.isprintable():
            raise InvalidValueError("name must be 1-100 printable characters", field="name")
        granted = parse_permissions(scopes, field="scopes")
        self.may_grant(granted)
        return name, granted
