"""Client authentication for the OAuth endpoints (RFC 6749 §2.3.1): HTTP Basic, or
`client_id`/`client_secret` form fields. Basic credentials are form-urlencoded before
base64 (§2.3.1), so they are decoded the same way."""

import base64
import binascii
from urllib.parse import unquote_plus

from fastapi import Request

from application.errors import InvalidClientError


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClientError("malformed Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClientError("malformed Basic credentials")
    return unquote_plus(client_id), unquote_plus(secret)


def client_credentials(
    request: Request, form_id: str | None, form_secret: str | None
) -> tuple[str, str] | None:
    """One method per request (§2.3): Basic and form fields together are refused."""
    basic = basic_credentials(request)
    if basic is not None and (form_id or form_secret):
        raise InvalidClientError("use one client authentication method")
    if basic is not None:
        return basic
    if form_id and form_secret:
        return form_id, form_secret
    return None
