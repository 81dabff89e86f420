"""The canonical form of an email address, by email-validator (syntax only, no DNS).

email-validator's `normalized` form is the one its authors say to store: the local part
in Unicode NFC, the domain lower-cased and IDNA 2008 (UTS #46) mapped to its Unicode
form, so `a@xn--bcher-kva.example`, `a@BÜCHER.example` and `a@bücher.example` all come
out as `a@bücher.example`. On top, HexaHub lower-cases the local part (as it always has:
`Ada@` and `ada@` are one account) and drops the DNS root's trailing dot, which the
library refuses rather than removes.
"""

import unicodedata

from email_validator import EmailNotValidError, validate_email

from application.ports.email_normaliser import EmailNormaliser
from domain.common.errors import InvalidEmailError
from domain.identity.value_objects import Email


def normalise_email(raw: str) -> str:
    """The canonical spelling of `raw`; `InvalidEmailError` when it has none. Shared by
    the adapter and the migration that normalised the addresses stored before."""
    text = raw.strip()
    local, at, domain = text.rpartition("@")
    if at and domain.endswith("."):
        text = f"{local}@{domain[:-1]}"  # "example.com." is the fully qualified example.com
    try:
        # strict: the RFC 5321 length limit on the local part too (64 octets).
        # test_environment: `.test` (RFC 6761) is for testing, and test authors and API
        # fuzzers use it; the names that can never receive mail (`localhost`, `invalid`,
        # `local`, `onion`, `arpa`) stay refused.
        normalised = validate_email(
            text, check_deliverability=False, strict=True, test_environment=True
        ).normalized
    except EmailNotValidError as error:
        raise InvalidEmailError(f"not a valid email address: {error}") from None
    # Lower-casing can leave a string that is not NFC (rarely, e.g. a Turkish dotted I).
    return unicodedata.normalize("NFC", normalised.lower())


def with_ascii_domain(address: str) -> str:
    """`address` with its domain in IDNA's ASCII form (`ada@xn--bcher-kva.example`), as
    SMTP needs it from a server without SMTPUTF8; unchanged if it does not parse."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        ascii_domain = validate_email(address, check_deliverability=False).ascii_domain
    except EmailNotValidError:
        return address
    return f"{local}@{ascii_domain}"


class EmailValidatorNormaliser(EmailNormaliser):
    def normalise(self, raw: str) -> Email:
        return Email(normalise_email(raw))
