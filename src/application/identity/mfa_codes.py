"""What the MFA use cases share: recovery codes, and judging a code against a factor."""

import hashlib
import secrets
from datetime import datetime
from typing import Literal

from application.ports.totp import TotpEngine
from domain.identity.mfa import TotpFactor

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/i/l: codes are read off paper and typed by hand.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_GROUPS, _GROUP_LENGTH = 3, 4  # "abcd-efgh-jkmn": 12 characters, about 59 bits

Method = Literal["totp", "recovery_code"]


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Fresh codes from the OS CSPRNG, in their canonical form."""
    return [
        "-".join(
            "".join(secrets.choice(_ALPHABET) for _ in range(_GROUP_LENGTH)) for _ in range(_GROUPS)
        )
        for _ in range(count)
    ]


def recovery_code_digest(code: str) -> str | None:
    """The stored form of a recovery code: SHA-256 of its canonical spelling (a slow
    hash adds nothing to ~59 random bits). Case, spaces and dashes as typed do not
    matter; None when `code` cannot be a recovery code at all."""
    letters = "".join(code.split()).replace("-", "").lower()
    if len(letters) != _GROUPS * _GROUP_LENGTH or any(c not in _ALPHABET for c in letters):
        return None
    canonical = "-".join(
        letters[i : i + _GROUP_LENGTH] for i in range(0, len(letters), _GROUP_LENGTH)
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def redeem(factor: TotpFactor, code: str, engine: TotpEngine, now: datetime) -> Method | None:
    """Accept `code` for `factor` and use it up: a TOTP code's time step can never be
    accepted again (RFC 6238 §5.2: one-time, no replay within the window), a recovery
    code is gone. None when the code is wrong, stale or already used; `factor` is then
    unchanged. The caller stores the factor in the same transaction as what it grants."""
    typed = "".join(code.split())
    if typed.isascii() and typed.isdigit():
        step = engine.verify(factor.secret, typed, now)
        if step is not None:
            return "totp" if factor.accept_step(step) else None
    digest = recovery_code_digest(typed)
    if digest is not None and factor.use_recovery_code(digest, now=now):
        return "recovery_code"
    return None
