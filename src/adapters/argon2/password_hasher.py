import asyncio
import secrets
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

from adapters.concurrency import BoundedExecutor, ExecutorBusyError
from application.errors import HasherBusyError
from application.ports.password_hasher import PasswordHasher

T = TypeVar("T")

# OWASP Password Storage Cheat Sheet, "Argon2id": minimum configurations that "provide an
# equal level of defense", trading memory (KiB) for iterations, all with parallelism 1.
# https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#argon2id
OWASP_ARGON2ID_MINIMUMS: tuple[tuple[int, int], ...] = (
    (47_104, 1),  # m=46 MiB, t=1
    (19_456, 2),  # m=19 MiB, t=2
    (12_288, 3),  # m=12 MiB, t=3
    (9_216, 4),  # m=9 MiB, t=4
    (7_168, 5),  # m=7 MiB, t=5
)


def meets_owasp_minimum(*, memory_cost: int, time_cost: int, parallelism: int) -> bool:
    """True when the parameters are at least as strong, in memory and in iterations both,
    as one of the sheet's equivalent minimums.

    Dominating a listed point is the only comparison the sheet supports: it does not
    say how far memory and time trade beyond the listed pairs, so m*t products are not
    used. Parallelism above 1 is accepted (the sheet uses 1; more lanes do not reduce
    the memory an attacker must spend per guess).
    """
    return parallelism >= 1 and any(
        memory_cost >= min_m and time_cost >= min_t for min_m, min_t in OWASP_ARGON2ID_MINIMUMS
    )


class Argon2PasswordHasher(PasswordHasher):
    """argon2id via argon2-cffi, run in a dedicated bounded thread pool.

    argon2-cffi releases the GIL while hashing, so worker threads hash truly in parallel
    while the event loop keeps serving. One more hash per worker waits inside the pool,
    to be started the moment a worker is free. When all those places are taken, at
    most `max_waiting` callers queue, each for at most `queue_timeout` seconds; anyone
    else gets `HasherBusyError` at once. With `thread_nice` above 0 the hash threads
    yield a shared core to the event loop, so logins cannot starve the other requests of
    a busy process. Call `shutdown()` when the app stops.
    """

    def __init__(
        self,
        *,
        time_cost: int = 2,
        memory_cost: int = 19_456,
        parallelism: int = 1,
        max_concurrency: int = 4,
        max_waiting: int = 64,
        queue_timeout: float = 2.0,
        thread_nice: int = 0,
    ) -> None:
        if not meets_owasp_minimum(
            memory_cost=memory_cost, time_cost=time_cost, parallelism=parallelism
        ):
            raise ValueError(
                f"argon2id parameters m={memory_cost} KiB, t={time_cost}, p={parallelism} are "
                "below the OWASP Password Storage Cheat Sheet minimum "
                "(m=19456 KiB, t=2, p=1 or an equivalent listed there)"
            )
        self._argon2 = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._executor = BoundedExecutor(
            max_workers=max_concurrency,
            max_waiting=max_waiting,
            queue_timeout=queue_timeout,
            thread_name_prefix="argon2",
            nice=thread_nice,
            # One hash queued behind each running one: the threads go from hash to hash
            # without waiting for the event loop (logins at 4 connections on two cores:
            # 47-48 a second without, 53-56 with).
            queued_ahead=max_concurrency,
        )
        self._dummy_hash: str | None = None
        self._dummy_lock = asyncio.Lock()

    async def hash(self, password: str) -> str:
        return await self._run(self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._run(self._verify_sync, password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        await self._run(self._verify_sync, await self._get_dummy_hash(), password)

    def needs_rehash(self, password_hash: str) -> bool:
        # check_needs_rehash is True whenever the stored parameters or type differ from the
        # current ones, so stored hashes converge on the configured parameters.
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            # Not an argon2 hash we can read (e.g. another scheme): replace it.
            return True

    def shutdown(self) -> None:
        """Stop the worker threads; running hashes finish first."""
        self._executor.shutdown()

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            # VerifyMismatchError is a VerificationError; an unreadable hash is a plain
            # "no", so a corrupt row never turns into a 500.
            return False

    async def _get_dummy_hash(self) -> str:
        # Computed once with the current parameters, so a dummy verification costs exactly
        # what a real one does. The random password can never be guessed.
        if self._dummy_hash is None:
            async with self._dummy_lock:
                if self._dummy_hash is None:
                    self._dummy_hash = await self.hash(secrets.token_urlsafe(32))
        return self._dummy_hash

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        try:
            return await self._executor.run(fn, *args)
        except ExecutorBusyError as error:
            raise HasherBusyError() from error
