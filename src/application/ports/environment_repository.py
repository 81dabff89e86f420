from abc import abstractmethod
from typing import Protocol

from domain.releases.environment import Environment


class EnvironmentRepository(Protocol):
    """Environments inside one unit of work. Never commits.

    `add` raises `EnvironmentExistsError` for a taken name, at the call. `list` is in
    promotion order (`position`, then name). `for_update=True` locks the row.
    """

    @abstractmethod
    async def add(self, environment: Environment) -> None: ...

    @abstractmethod
    async def update(self, environment: Environment) -> None: ...

    @abstractmethod
    async def get(self, name: str, *, for_update: bool = False) -> Environment | None: ...

    @abstractmethod
    async def list(self) -> list[Environment]: ...
