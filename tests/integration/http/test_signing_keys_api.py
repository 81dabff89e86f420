"""RFC 8725 over HTTP, and key rotation as a deployment lives it."""

import datetime as dt
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from tests.integration.http.conftest import ADMIN, TEST_SECRET, AppFactory
from tests.integration.http.helpers import bearer, login, register


async def crafted(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """A real token's header and claims, to forge variants of."""
    user = await register(client)
    token = (await login(client, user["username"]))["access_token"]
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


async def test_rfc_8725_refusals(app_factory: AppFactory) -> None:
    client = await app_factory(database_url="memory://", _fake_hasher=True)
    header, claims = await crafted(client)
    now = dt.datetime.now(dt.UTC)

    def sign(payload: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(payload, TEST_SECRET, algorithm="HS256", headers={**header, **headers})

    good = sign(claims)
    assert (
        await client.get("/api/v1/auth/me", headers=bearer({"access_token": good}))
    ).status_code == 200
    forged = {
        "alg=none": jwt.encode(claims, None, algorithm="none", headers={"kid": header["kid"]}),  # type: ignore[arg-type]
        "wrong iss": sign({**claims, "iss": "https://evil.example"}),
        "wrong aud": sign({**claims, "aud": "another-api"}),
        "expired": sign({**claims, "exp": now - dt.timedelta(minutes=5)}),
        "not yet valid": sign({**claims, "nbf": now + dt.timedelta(minutes=5)}),
        "tampered": good.split(".")[0]
        + "."
        + jwt.utils.base64url_encode(jwt.utils.force_bytes('{"sub":"someone-else"}')).decode()
        + "."
        + good.split(".")[2],
        "unknown kid": sign(claims, kid="no-such-key"),
        "not an access token": sign(claims, typ="JWT"),
        "other secret": jwt.encode(claims, "x" * 40, algorithm="HS256", headers=header),
    }
    for name, token in forged.items():
        response = await client.get("/api/v1/auth/me", headers=bearer({"access_token": token}))
        assert response.status_code == 401, name
        assert response.json()["error"] == "invalid_token", name


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
async def test_algorithm_confusion_is_refused(app_factory: AppFactory, algorithm: str) -> None:
    """An attacker signs HS256 with the public key (it is published) as the secret."""
    client = await app_factory(database_url="memory://", _fake_hasher=True, jwt_algorithm=algorithm)
    header, claims = await crafted(client)
    jwk = next(
        k
        for k in (await client.get("/.well-known/jwks.json")).json()["keys"]
        if k["kid"] == header["kid"]
    )
    public_pem = jwt.PyJWK.from_dict(jwk).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # PyJWT itself refuses to HMAC-sign with a PEM key, so the forgery is done by hand.
    confused = _hmac_sign(claims, header, public_pem)
    response = await client.get("/api/v1/auth/me", headers=bearer({"access_token": confused}))
    assert response.status_code == 401


def _hmac_sign(claims: dict[str, Any], header: dict[str, Any], secret: bytes) -> str:
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    head = b64(json.dumps({**header, "alg": "HS256"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(secret, head + b"." + body, hashlib.sha256).digest())
    return (head + b"." + body + b"." + signature).decode()


async def test_rotation_keeps_old_tokens_and_signs_new_ones_with_the_new_kid(
    app_factory: AppFactory, backend: dict[str, Any]
) -> None:
    client = await app_factory(**backend, **ADMIN, jwt_algorithm="RS256")
    admin = bearer(await login(client, "admin", ADMIN["first_admin_password"]))
    user = await register(client)
    before = await login(client, user["username"])
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]

    refused = await client.post("/api/v1/keys/rotate", headers=bearer(before))
    assert refused.status_code == 403
    rotated = await client.post("/api/v1/keys/rotate", headers=admin)
    assert rotated.status_code == 200
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid

    assert (await client.get("/api/v1/auth/me", headers=bearer(before))).status_code == 200
    after = await login(client, user["username"])
    assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid
    published = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, new_kid} <= published
    audit = (
        await client.get("/api/v1/audit-events", headers=admin, params={"action": "key.rotated"})
    ).json()["items"]
    assert audit[0]["target_id"] == new_kid


async def test_keys_from_configuration_are_not_rotated_here(app_factory: AppFactory) -> None:
    client = await app_factory(database_url="memory://", _fake_hasher=True, **ADMIN)
    admin = bearer(await login(client, "admin", ADMIN["first_admin_password"]))
    response = await client.post("/api/v1/keys/rotate", headers=admin)
    assert response.status_code == 409
