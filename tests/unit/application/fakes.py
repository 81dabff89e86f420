"""Small fakes for the few behaviours the shared in-memory adapters do not offer:
counting hash work, a race injected while a hash runs, and a revocation store that is down.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from uuid import UUID

from adapters.memory.password_hasher import FakePasswordHasher
from application.errors import CacheUnavailableError
from application.ports.revocation_store import RevocationStore

Hook = Callable[[], Awaitable[None]]


class CountingPasswordHasher(FakePasswordHasher):
    """`FakePasswordHasher` that counts the work done and can run a hook in the middle of
    a verify or a hash, the window in which another request may change the account."""

    def __init__(self, *, cost: int = 1) -> None:
        super().__init__(cost=cost)
        self.calls: Counter[str] = Counter()
        self.during_verify: Hook | None = None
        self.during_hash: Hook | None = None

    async def hash(self, password: str) -> str:
        self.calls["hash"] += 1
        await _run_once(self, "during_hash")
        return await super().hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        self.calls["verify"] += 1
        await _run_once(self, "during_verify")
        return await super().verify(password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        self.calls["verify_dummy"] += 1
        await super().verify_dummy(password)

    @property
    def hash_work(self) -> int:
        """Every verification-priced operation, real or dummy."""
        return self.calls["verify"] + self.calls["verify_dummy"]


async def _run_once(hasher: CountingPasswordHasher, name: str) -> None:
    hook = getattr(hasher, name)
    if hook is not None:
        setattr(hasher, name, None)
        await hook()


class UnavailableRevocationStore(RevocationStore):
    """A revocation store whose server is down: every call fails like Redis would."""

    def __init__(self) -> None:
        self.attempts = 0

    async def revoke_sessions(self, session_ids: list[UUID], *, ttl_seconds: int) -> None:
        self.attempts += 1
        raise CacheUnavailableError()

    async def is_session_revoked(self, session_id: UUID) -> bool:
        self.attempts += 1
        raise CacheUnavailableError()

    async def ping(self) -> None:
        raise CacheUnavailableError()


class YieldingPasswordHasher(CountingPasswordHasher):
    """`CountingPasswordHasher` whose `verify` gives the loop away first, as a real hash
    in an executor does: concurrent logins then all reach the check before any of them
    finishes it, which is when counting attempts late would let every guess through."""

    async def verify(self, password_hash: str, password: str) -> bool:
        for _ in range(3):
            await asyncio.sleep(0)
        return await super().verify(password_hash, password)
