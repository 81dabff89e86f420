from abc import abstractmethod
from typing import Protocol

from domain.access.roles import RoleDefinition


class RoleRepository(Protocol):
    """Role definitions inside one unit of work. Never commits.

    The built-in roles (`admin`, `user`, `auditor`) always exist; their permissions come
    from the domain, so a new permission reaches `admin` without a data migration.
    Renaming a role renames it on every user holding it; deleting one removes it from
    them. `add` raises `RoleExistsError` for a taken name.
    """

    @abstractmethod
    async def add(self, role: RoleDefinition) -> None: ...

    @abstractmethod
    async def update(self, role: RoleDefinition, *, previous_name: str) -> None: ...

    @abstractmethod
    async def delete(self, name: str) -> None: ...

    @abstractmethod
    async def get(self, name: str) -> RoleDefinition | None: ...

    @abstractmethod
    async def get_many(self, names: frozenset[str]) -> list[RoleDefinition]:
        """The roles that exist among `names` (unknown names are simply absent)."""

    @abstractmethod
    async def list(self) -> list[RoleDefinition]:
        """Every role, built-in first, then by name."""
