from abc import abstractmethod
from datetime import datetime
from typing import Protocol


class TotpEngine(Protocol):
    """RFC 6238 time-based one-time passwords: 6 digits, 30-second steps, HMAC-SHA1 (what
    every authenticator app understands). Pure computation: no I/O, no clock of its own
    (the caller passes `now`), nothing stored."""

    @abstractmethod
    def new_secret(self) -> str:
        """A fresh random base32 seed of at least 160 bits (RFC 4226 §4, R6)."""

    @abstractmethod
    def provisioning_uri(self, secret: str, account_name: str, issuer: str) -> str:
        """The `otpauth://totp/...` URI an authenticator app imports (Key Uri Format)."""

    @abstractmethod
    def verify(self, secret: str, code: str, now: datetime) -> int | None:
        """The time step whose code `code` is, looking one step either side of `now`
        (RFC 6238 §5.2 transmission delay and clock drift); None when it matches none,
        or is not a well-formed code. Comparisons take constant time. Deciding whether
        that step was already used (replay) is the caller's business."""

    @abstractmethod
    def qr_svg(self, data: str) -> str:
        """`data` as a QR code: a standalone SVG document as a string, with no external
        references (nothing to fetch, safe to inline)."""
