"""Short-lived signed cookies for the external sign-in flow (the state, nonce and PKCE
verifier of a flow in progress; an upstream identity waiting for a password to link).
HMAC-SHA-256 under a server key with an expiry: the browser carries them, cannot
forge or extend them. They hold nothing that unlocks an account on its own."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

_LABEL = b"hexahub sealed v1:"


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, payload: bytes) -> str:
        return hmac.new(self._key, _LABEL + payload, hashlib.sha256).hexdigest()

    def seal(self, data: dict[str, Any], *, ttl_seconds: int) -> str:
        body = {**data, "exp": int(time.time()) + ttl_seconds}
        payload = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode())
        return f"{payload.decode()}.{self._mac(payload)}"

    def open(self, value: str | None) -> dict[str, Any] | None:
        if not value or len(value) > 4096 or "." not in value:
            return None
        payload, _, mac = value.rpartition(".")
        if not hmac.compare_digest(self._mac(payload.encode()), mac):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        except (ValueError, json.JSONDecodeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("exp"), int):
            return None
        return data if data["exp"] > time.time() else None
