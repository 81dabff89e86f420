"""Opaque, tamper-evident keyset cursors for list endpoints.

A cursor is the last id of a page plus the filters it was made for, signed with HMAC.
A cursor that was edited, forged, or reused with other filters is refused with 400, so a
client can never silently page through a different listing.
"""

import base64
import hashlib
import hmac
import json
from typing import Any
from uuid import UUID

from entrypoints.http.errors import HttpError


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        # A key of its own, derived so that a cursor is never a valid signature elsewhere.
        self._key = hmac.new(key, b"hexahub.cursor.v1", hashlib.sha256).digest()

    def encode(self, after: UUID, scope: dict[str, Any]) -> str:
        payload = json.dumps({"a": str(after), "s": scope}, separators=(",", ":"), sort_keys=True)
        raw = payload.encode()
        return _b64(raw) + "." + _b64(self._sign(raw))

    def decode(self, cursor: str, scope: dict[str, Any]) -> UUID:
        try:
            body, signature = cursor.split(".", 1)
            raw = _unb64(body)
            if not hmac.compare_digest(_unb64(signature), self._sign(raw)):
                raise ValueError("bad signature")
            payload = json.loads(raw)
            if payload["s"] != json.loads(json.dumps(scope, sort_keys=True)):
                raise ValueError("filters changed")
            return UUID(payload["a"])
        except (ValueError, KeyError, TypeError) as error:
            raise HttpError("invalid pagination cursor", code="bad_request", status=400) from error

    def _sign(self, raw: bytes) -> bytes:
        return hmac.new(self._key, raw, hashlib.sha256).digest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
