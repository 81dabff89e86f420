"""The OpenAPI document tells the truth: the constraints the server enforces, every error
in the one envelope, readable operation ids, descriptions that render as text, and the
servers a client should call. What the server does with it is checked by Schemathesis
(test_openapi_conformance.py); this pins what a reader of the document sees."""

import re
from typing import Any

import httpx

from domain.access.permissions import Permission
from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import operations

ENVELOPES = {"#/components/schemas/ErrorBody", "#/components/schemas/OAuthErrorBody"}


def schema(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"][name]
    return found


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"]} if "$ref" in node else set()
        return own.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def test_operation_ids_are_readable_and_stable(openapi: dict[str, Any]) -> None:
    ids = {key: op["operationId"] for key, op in operations(openapi).items()}
    assert len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(r"[a-z][A-Za-z]+", i) for i in ids.values()), ids
    assert ids[("POST", "/api/v1/auth/register")] == "register"
    assert ids[("POST", "/api/v1/auth/login")] == "logIn"
    assert ids[("GET", "/api/v1/auth/me")] == "getOwnProfile"
    assert ids[("GET", "/api/v1/users")] == "listUsers"
    assert ids[("GET", "/api/v1/roles/{name}")] == "getRole"
    assert ids[("POST", "/api/v1/auth/token")] == "issueToken"
    # Summaries read as the ids do, not as Python function names ("Me").
    summaries = {key: op["summary"] for key, op in operations(openapi).items()}
    assert summaries[("GET", "/api/v1/auth/me")] == "Get own profile"
    assert summaries[("POST", "/api/v1/api-keys")] == "Create API key"


def test_every_error_is_the_envelope_and_fastapis_own_is_gone(openapi: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    for key, operation in operations(openapi).items():
        for status, response in operation["responses"].items():
            if int(status) < 400 or key[1].startswith("/health"):
                continue
            schemas = refs(response["content"]["application/json"]["schema"])
            assert schemas & ENVELOPES, (key, status, schemas)


def test_what_can_happen_is_declared(openapi: dict[str, Any]) -> None:
    for key, operation in operations(openapi).items():
        declared = set(operation["responses"])
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            # 400: a body that cannot be parsed (invalid UTF-8, say).
            assert {"400", "413", "415", "422"} <= declared, key
        if "application/x-www-form-urlencoded" in content:
            assert {"400", "413", "415"} <= declared, key
            assert "422" not in declared, key  # OAuth answers 400 invalid_request
        if operation.get("security"):
            assert "401" in declared, key
        if not key[1].startswith("/health"):
            assert {"429", "500", "503"} <= declared, key


def test_the_mfa_challenge_is_documented_where_it_is_sent(openapi: dict[str, Any]) -> None:
    ops = operations(openapi)
    for key in (("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/token")):
        answer = ops[key]["responses"]["401"]["content"]["application/json"]["schema"]
        assert "#/components/schemas/MfaChallengeBody" in refs(answer), key
    challenge = schema(openapi, "MfaChallengeBody")
    assert "mfa_token" in challenge["required"]


def test_schemas_carry_the_rules_the_server_enforces(openapi: dict[str, Any]) -> None:
    register = schema(openapi, "RegisterIn")["properties"]
    assert register["username"]["minLength"] == 3
    assert register["username"]["maxLength"] == 32
    assert re.fullmatch(register["username"]["pattern"], "Ada.Lovelace_1")
    assert not re.fullmatch(register["username"]["pattern"], "-ada")
    assert register["email"]["format"] == "email"
    assert register["email"]["maxLength"] == 254
    assert (register["password"]["minLength"], register["password"]["maxLength"]) == (8, 128)
    assert register["full_name"]["anyOf"][0]["maxLength"] == 128
    role = schema(openapi, "RoleCreateIn")["properties"]
    assert re.fullmatch(role["name"]["pattern"], "support-2")
    assert not re.fullmatch(role["name"]["pattern"], "2nd")
    assert schema(openapi, "Permission")["enum"] == [p.value for p in Permission]
    assert role["permissions"]["items"] == {"$ref": "#/components/schemas/Permission"}
    token = schema(openapi, "TokenRequest")["properties"]
    assert token["grant_type"]["enum"] == [
        "password",
        "refresh_token",
        "client_credentials",
        "authorization_code",
    ]
    assert token["username"] == {"type": "string", "maxLength": 4096, **_described(token)}


def _described(props: dict[str, Any]) -> dict[str, Any]:
    return {"title": "Username", "description": props["username"]["description"]}


async def test_password_lengths_follow_the_settings(app_factory: AppFactory) -> None:
    client = await app_factory(
        database_url="memory://", password_min_length=12, password_max_length=64
    )
    document = (await client.get("/openapi.json")).json()
    for model, field in (
        ("RegisterIn", "password"),
        ("UserCreateIn", "password"),
        ("PasswordChangeIn", "new_password"),
        ("PasswordResetConfirmIn", "new_password"),
    ):
        prop = schema(document, model)["properties"][field]
        assert (prop["minLength"], prop["maxLength"]) == (12, 64), model
        assert "x-new-password" not in prop
    # The current password is checked, not judged by the policy.
    assert "minLength" not in schema(document, "LoginIn")["properties"]["password"]


def test_descriptions_render_as_text(openapi: dict[str, Any]) -> None:
    """Markdown reads four leading spaces as a code block."""
    texts = [op.get("description", "") for op in operations(openapi).values()]
    texts += [s.get("description", "") for s in openapi["components"]["schemas"].values()]
    assert len([t for t in texts if t]) > 40
    for text in texts:
        assert not any(line.startswith("    ") for line in text.splitlines()), text


def test_every_tag_is_described(openapi: dict[str, Any]) -> None:
    described = {t["name"]: t["description"] for t in openapi["tags"]}
    used = {tag for op in operations(openapi).values() for tag in op.get("tags", ())}
    assert used <= set(described)
    assert all(described.values())


def test_introspection_jwks_and_discovery_answers_are_typed(openapi: dict[str, Any]) -> None:
    ops = operations(openapi)
    for key, model in (
        (("POST", "/api/v1/auth/introspect"), "IntrospectionOut"),
        (("GET", "/.well-known/jwks.json"), "JwksOut"),
        (("GET", "/.well-known/openid-configuration"), "ProviderMetadataOut"),
        (("POST", "/api/v1/auth/revoke"), "RevocationOut"),
    ):
        ok = ops[key]["responses"]["200"]["content"]["application/json"]["schema"]
        assert ok == {"$ref": f"#/components/schemas/{model}"}, key
    assert schema(openapi, "IntrospectionOut")["required"] == ["active"]


async def test_servers_name_the_public_url_or_stay_relative(app_factory: AppFactory) -> None:
    default = await app_factory(database_url="memory://")
    assert (await default.get("/openapi.json")).json()["servers"] == [{"url": "/"}]
    public = await app_factory(database_url="memory://", public_base_url="https://id.example.com/")
    assert (await public.get("/openapi.json")).json()["servers"] == [
        {"url": "https://id.example.com"}
    ]


async def test_an_unparsable_body_is_the_documented_400(
    memory_client: httpx.AsyncClient, openapi: dict[str, Any]
) -> None:
    """Not UTF-8, so not JSON at all (RFC 8259 §8.1): 400, not a field-by-field 422."""
    response = await memory_client.post(
        "/api/v1/auth/register",
        content=b'{"email": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert "400" in operations(openapi)[("POST", "/api/v1/auth/register")]["responses"]
