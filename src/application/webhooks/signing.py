"""Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"):
HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the
base64-decoded part of the secret after `whsec_`, sent as `v1,<base64>`."""

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"


def new_secret() -> str:
    """24 random bytes (the spec asks for 24 to 64), from the OS CSPRNG."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
