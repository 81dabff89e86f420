from abc import abstractmethod
from typing import Protocol

from domain.signin.authorization import AuthorizationCode


class AuthorizationCodeRepository(Protocol):
    """Authorization codes inside one unit of work, keyed by the digest of the code (the
    code itself is never stored). Never commits.

    `get(..., for_update=True)` locks the code's row until the transaction ends, so two
    exchanges of one code are serialized and exactly one sees it unused. `update` of an
    unknown code raises `LookupError`. Expired codes may be kept or pruned; callers
    check `expires_at`."""

    @abstractmethod
    async def add(self, code: AuthorizationCode) -> None: ...

    @abstractmethod
    async def get(
        self, code_hash: str, *, for_update: bool = False
    ) -> AuthorizationCode | None: ...

    @abstractmethod
    async def update(self, code: AuthorizationCode) -> None: ...
