"""The authenticated caller and the permission checks use cases apply to it."""

from dataclasses import dataclass
from uuid import UUID

from application.errors import PermissionDeniedError
from domain.roles import Permission
from domain.user import User


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user as loaded for this request, and the session it acts in."""

    user: User
    session_id: UUID

    @property
    def user_id(self) -> UUID:
        return self.user.id

    def require(self, permission: Permission) -> None:
        if permission not in self.user.permissions:
            raise PermissionDeniedError(f"missing permission {permission.value}")

    def require_self_or(self, user_id: UUID, permission: Permission) -> None:
        """Anyone may act on their own account; acting on others needs `permission`."""
        if user_id != self.user.id:
            self.require(permission)
