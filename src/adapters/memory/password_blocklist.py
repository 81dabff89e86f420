from collections.abc import Iterable

from application.ports.password_blocklist import PasswordBlocklist


class InMemoryPasswordBlocklist(PasswordBlocklist):
    """A blocklist of the given words, compared like `CommonPasswordBlocklist`:
    lower-cased and stripped. For tests that want a small, known list."""

    def __init__(self, words: Iterable[str]) -> None:
        self._words = frozenset(_normalized(word) for word in words) - {""}

    def contains(self, password: str) -> bool:
        return _normalized(password) in self._words


def _normalized(password: str) -> str:
    return password.strip().lower()
