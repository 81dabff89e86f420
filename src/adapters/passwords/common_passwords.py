"""The common-password blocklist shipped with this package.

common-passwords.txt.gz is Django 5.2.19's django/contrib/auth/common-passwords.txt.gz
(BSD-3-Clause, copyright Django Software Foundation and individual contributors; list
compiled by Royce Williams), copied unchanged; sha256 3c1baed6...c175afe4.
"""

import gzip
import threading
from pathlib import Path

from application.ports.password_blocklist import PasswordBlocklist

DEFAULT_PATH = Path(__file__).with_name("common-passwords.txt.gz")


class CommonPasswordBlocklist(PasswordBlocklist):
    """The 19,640 passwords of the shipped list (or a gzip list at `path`), compared
    lower-cased and stripped, so `Password ` counts as `password`.

    Read on first use (about 80 kB compressed, a few ms) and kept for the process; call
    `load()` at start-up to pay that before the first request instead. The lock makes
    concurrent first calls from executor threads read the file once.
    """

    def __init__(self, path: Path = DEFAULT_PATH) -> None:
        self._path = path
        self._words: frozenset[str] | None = None
        self._lock = threading.Lock()

    def contains(self, password: str) -> bool:
        return _normalized(password) in self.load()

    def load(self) -> frozenset[str]:
        words = self._words
        if words is None:
            with self._lock:
                words = self._words
                if words is None:
                    with gzip.open(self._path, "rt", encoding="utf-8") as lines:
                        words = frozenset(_normalized(line) for line in lines) - {""}
                    self._words = words
        return words


def _normalized(password: str) -> str:
    return password.strip().lower()
