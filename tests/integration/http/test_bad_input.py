"""Bad input: each gets the one envelope, and nothing is half written."""

import datetime as dt

import httpx
import jwt

from tests.integration.http.conftest import TEST_SECRET
from tests.integration.http.helpers import new_identity, registered_and_logged_in

AUTH = "/api/v1/auth"


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_malformed_json(memory_client: httpx.AsyncClient) -> None:
    response = await memory_client.post(
        f"{AUTH}/register", content=b'{"email": ', headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 422, "validation_error")


async def test_wrong_types_and_missing_fields_list_each_field(
    memory_client: httpx.AsyncClient,
) -> None:
    response = await memory_client.post(f"{AUTH}/register", json={"email": 5, "password": []})
    body = assert_envelope(response, 422, "validation_error")
    locs = {tuple(d["loc"]) for d in body["details"]}
    assert {("body", "email"), ("body", "username"), ("body", "password")} <= locs
    assert all(set(d) == {"loc", "msg", "type"} for d in body["details"])


async def test_invalid_email_and_username(client: httpx.AsyncClient) -> None:
    for field, value in (("email", "not-an-email"), ("username", "a b")):
        response = await client.post(f"{AUTH}/register", json={**new_identity(), field: value})
        body = assert_envelope(response, 422, "validation_error")
        assert body["details"][0]["loc"] == ["body", field]


async def test_short_and_absurd_passwords_never_echoed(memory_client: httpx.AsyncClient) -> None:
    short = "shrt"
    huge = "x" * 5000
    for password in (short, huge, "y" * 129):
        response = await memory_client.post(
            f"{AUTH}/register", json={**new_identity(), "password": password}
        )
        assert_envelope(response, 422, "validation_error")
        assert password not in response.text


async def test_validation_errors_never_echo_tokens(memory_client: httpx.AsyncClient) -> None:
    secret_token = "hxr_" + "s" * 5000
    response = await memory_client.post(f"{AUTH}/refresh", json={"refresh_token": secret_token})
    assert_envelope(response, 422, "validation_error")
    assert "sssss" not in response.text


async def test_two_mebibyte_body_is_refused(memory_client: httpx.AsyncClient) -> None:
    response = await memory_client.post(
        f"{AUTH}/register",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert_envelope(response, 413, "payload_too_large")


async def test_chunked_oversized_body_is_refused(memory_client: httpx.AsyncClient) -> None:
    async def chunks():
        for _ in range(40):
            yield b" " * 65536

    response = await memory_client.post(
        f"{AUTH}/register", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_envelope(response, 413, "payload_too_large")


async def test_wrong_content_type(memory_client: httpx.AsyncClient) -> None:
    response = await memory_client.post(
        f"{AUTH}/register", content=b"email=a@b.co", headers={"Content-Type": "text/plain"}
    )
    assert_envelope(response, 415, "unsupported_media_type")
    form_as_json = await memory_client.post(f"{AUTH}/token", json={"grant_type": "password"})
    assert form_as_json.status_code == 415


async def test_unknown_route_and_method(memory_client: httpx.AsyncClient) -> None:
    assert_envelope(await memory_client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_envelope(await memory_client.delete(f"{AUTH}/register"), 405, "method_not_allowed")


async def test_missing_token_asks_for_bearer(memory_client: httpx.AsyncClient) -> None:
    response = await memory_client.get(f"{AUTH}/me")
    assert_envelope(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_expired_forged_and_none_tokens_are_refused(memory_client: httpx.AsyncClient) -> None:
    _user, tokens = await registered_and_logged_in(memory_client)
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    now = dt.datetime.now(dt.UTC)
    expired = jwt.encode(
        {
            **claims,
            "iat": now - dt.timedelta(hours=2),
            "nbf": now - dt.timedelta(hours=2),
            "exp": now - dt.timedelta(hours=1),
        },
        TEST_SECRET,
        algorithm="HS256",
    )
    forged = jwt.encode(claims, "another-secret-that-is-long-enough-0123456789", algorithm="HS256")
    none_alg = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    for token in (expired, forged, none_alg, "not.a.jwt", tokens["access_token"] + "x"):
        response = await memory_client.get(
            f"{AUTH}/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert_envelope(response, 401, "invalid_token")
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_token_in_query_string_is_ignored(memory_client: httpx.AsyncClient) -> None:
    _, tokens = await registered_and_logged_in(memory_client)
    response = await memory_client.get(
        f"{AUTH}/me", params={"access_token": tokens["access_token"]}
    )
    assert_envelope(response, 401, "unauthorized")


async def test_failed_registration_writes_nothing(client: httpx.AsyncClient) -> None:
    identity = new_identity()
    bad = await client.post(f"{AUTH}/register", json={**identity, "password": "short"})
    assert bad.status_code == 422
    ok = await client.post(f"{AUTH}/register", json=identity)
    assert ok.status_code == 201


async def test_request_id_is_echoed_or_generated(memory_client: httpx.AsyncClient) -> None:
    echoed = await memory_client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await memory_client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert generated.headers["x-request-id"] != "bad id\nwith newline"
    assert len(generated.headers["x-request-id"]) >= 16


async def test_registration_can_be_disabled(app_factory) -> None:  # type: ignore[no-untyped-def]
    client = await app_factory(
        database_url="memory://", _fake_hasher=True, registration_enabled=False
    )
    response = await client.post(f"{AUTH}/register", json=new_identity())
    assert_envelope(response, 403, "forbidden")


async def test_control_characters_are_refused_not_crashed_on(client: httpx.AsyncClient) -> None:
    nul_email = "a\u0000b@example.com"
    registered = await client.post(f"{AUTH}/register", json={**new_identity(), "email": nul_email})
    assert_envelope(registered, 422, "validation_error")
    logged_in = await client.post(
        f"{AUTH}/login", json={"username": nul_email, "password": "whatever-password"}
    )
    assert_envelope(logged_in, 401, "invalid_credentials")
