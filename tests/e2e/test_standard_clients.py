"""Stock resource-server tooling over real HTTP: PyJWT's PyJWKClient fetches the JWKS
from the running server and verifies its tokens; `hexahub keys rotate` rotates them."""

import subprocess
import sys
import time

import httpx
import jwt
import pytest

from tests.e2e.conftest import ServerFactory

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_pyjwkclient_verifies_tokens_through_the_jwks_url(
    server_factory: ServerFactory, algorithm: str
) -> None:
    server = server_factory(
        JWT_ALGORITHM=algorithm,
        PUBLIC_BASE_URL="https://id.example.test",
        RATE_LIMIT_ENABLED="false",  # the test logs in repeatedly while it waits
    )
    httpx.post(
        f"{server.url}/api/v1/auth/register",
        json={"email": "rs@example.com", "username": "rsuser", "password": PASSWORD},
    ).raise_for_status()
    token = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"username": "rsuser", "password": PASSWORD}
    ).json()["access_token"]
    client = jwt.PyJWKClient(f"{server.url}/.well-known/jwks.json")
    signing_key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        signing_key.key,
        algorithms=[algorithm],
        audience="hexahub-api",
        issuer="https://id.example.test",
    )
    assert claims["sub"]

    old_kid = jwt.get_unverified_header(token)["kid"]
    rotated = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "keys", "rotate"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "now signing with" in rotated.stdout
    # The running server learns about the rotation from the database (refresh <= 60 s;
    # the test server refreshes every second) and keeps verifying the old token.
    new_kid = old_kid
    for _ in range(50):
        fresh = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"username": "rsuser", "password": PASSWORD}
        ).json()["access_token"]
        new_kid = jwt.get_unverified_header(fresh)["kid"]
        if new_kid != old_kid:
            break

        time.sleep(0.2)
    assert new_kid != old_kid
    # A resource server fetching the JWKS now (PyJWKClient keeps a refetch cooldown)
    # finds the new key, and still finds the old one for tokens signed before.
    later = jwt.PyJWKClient(f"{server.url}/.well-known/jwks.json")
    assert later.get_signing_key_from_jwt(fresh).key_id == new_kid
    assert later.get_signing_key_from_jwt(token).key_id == old_kid
    me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
