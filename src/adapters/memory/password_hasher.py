import hashlib
import hmac
import secrets

from application.ports.password_hasher import PasswordHasher

_SCHEME = "fake"


class FakePasswordHasher(PasswordHasher):
    """FOR TESTS ONLY: a fast salted SHA-256 that stands in for argon2 in unit tests.

    One SHA-256 is nowhere near a password hash (no work factor; a GPU tries billions a
    second), so this must never be wired into a running service. It exists because
    argon2 at production cost would make a unit suite take minutes.

    Hashes read `fake$c=<cost>$<salt>$<sha256 hex>`. `cost` only plays the role of
    argon2's parameters: a hash made with a lower cost than the hasher's "needs rehash",
    so upgrade-on-login paths can be tested.
    """

    def __init__(self, *, cost: int = 1) -> None:
        if cost < 1:
            raise ValueError("cost must be at least 1")
        self._cost = cost

    async def hash(self, password: str) -> str:
        salt = secrets.token_hex(8)
        return f"{_SCHEME}$c={self._cost}${salt}${_digest(salt, password)}"

    async def verify(self, password_hash: str, password: str) -> bool:
        parsed = _parse(password_hash)
        if parsed is None:
            return False
        _, salt, digest = parsed
        return hmac.compare_digest(digest, _digest(salt, password))

    async def verify_dummy(self, password: str) -> None:
        _digest("dummy", password)

    def needs_rehash(self, password_hash: str) -> bool:
        parsed = _parse(password_hash)
        return parsed is None or parsed[0] < self._cost


def _digest(salt: str, password: str) -> str:
    data = f"{salt}${password}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def _parse(password_hash: str) -> tuple[int, str, str] | None:
    parts = password_hash.split("$")
    if len(parts) != 4 or parts[0] != _SCHEME or not parts[1].startswith("c="):
        return None
    cost = parts[1].removeprefix("c=")
    if not cost.isdigit() or len(parts[3]) != 64:
        return None
    return int(cost), parts[2], parts[3]
