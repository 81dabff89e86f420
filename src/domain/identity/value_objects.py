"""Self-validating value objects. Construction fails with an `InvalidValueError`."""

import re
from dataclasses import dataclass

from domain.common.errors import InvalidEmailError, InvalidFullNameError, InvalidUsernameError

# RFC 5321 §4.5.3.1: 64 octets local part, 254 for the whole forward path we accept.
_EMAIL_MAX = 254
_LOCAL_MAX = 64
# Deliberately simple: one "@", no spaces, a dotted domain. Deliverability is proven by
# verification mail, not by a regular expression.
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{1,30}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class Email:
    """An email address as HexaHub stores and compares it: trimmed, lower-cased, one
    "@", a dotted domain, within the RFC 5321 lengths.

    The rest of the canonical form (Unicode NFC, one IDNA form of the domain) needs the
    IDNA tables, which the standard library does not have: use cases build an `Email`
    from caller input through the `EmailNormaliser` port, never directly, and this class
    checks what it can of the result."""

    value: str

    def __init__(self, raw: str) -> None:
        value = raw.strip().lower()
        local, _, _ = value.partition("@")
        if (
            len(value) > _EMAIL_MAX
            or len(local) > _LOCAL_MAX
            or not value.isprintable()
            or not _EMAIL_RE.match(value)
        ):
            raise InvalidEmailError("not a valid email address")
        object.__setattr__(self, "value", value)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Username:
    """3 to 32 characters of a-z, 0-9, '.', '_' or '-', starting and ending alphanumeric.

    Stored lower-cased (as Keycloak does) so that "Alice" and "alice" cannot be two
    accounts; an "@" is refused so a login name is never mistaken for an email.
    """

    value: str

    def __init__(self, raw: str) -> None:
        value = raw.strip().lower()
        if not 3 <= len(value) <= 32 or not _USERNAME_RE.match(value):
            raise InvalidUsernameError(
                "username must be 3-32 characters of a-z, 0-9, '.', '_' or '-', "
                "starting and ending with a letter or digit"
            )
        object.__setattr__(self, "value", value)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class FullName:
    """A display name: up to 128 printable characters, surrounding space trimmed."""

    value: str

    def __init__(self, raw: str) -> None:
        value = raw.strip()
        if len(value) > 128 or not value.isprintable():
            raise InvalidFullNameError("full name must be at most 128 printable characters")
        object.__setattr__(self, "value", value)

    def __str__(self) -> str:
        return self.value
