from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from application.tokens.use_cases.manage_clients import REDIRECT_URI_PATTERN
from domain.tokens.service_clients import ServiceClient
from entrypoints.http.schemas.access import PermissionList
from entrypoints.http.schemas.users import Input, NameField

GrantType = Literal["authorization_code", "refresh_token", "client_credentials"]
AuthMethod = Literal["none", "client_secret_basic", "client_secret_post"]
RedirectUri = Annotated[str, Field(min_length=1, max_length=2000, pattern=REDIRECT_URI_PATTERN)]


def _registration_rules(schema: dict[str, Any]) -> None:
    """The two rules that tie fields together, in the document too (JSON Schema
    `if`/`then`), so a client generator knows them: a public client cannot use client
    credentials; the authorization code grant needs a redirect URI."""
    schema["allOf"] = [
        {
            "if": {
                "properties": {"token_endpoint_auth_method": {"const": "none"}},
                "required": ["token_endpoint_auth_method"],
            },
            "then": {
                "properties": {
                    "grant_types": {
                        "minItems": 1,
                        "not": {"contains": {"const": "client_credentials"}},
                    }
                },
                "required": ["grant_types"],
            },
        },
        {
            "if": {
                "properties": {"grant_types": {"contains": {"const": "authorization_code"}}},
                "required": ["grant_types"],
            },
            "then": {
                "properties": {"redirect_uris": {"minItems": 1}},
                "required": ["redirect_uris"],
            },
        },
    ]


class ClientCreateIn(Input):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_registration_rules)

    name: Annotated[NameField, Field(examples=["billing-service"])]
    scopes: PermissionList = []
    redirect_uris: Annotated[
        list[RedirectUri],
        Field(
            max_length=20,
            description="Matched exactly; https, http on loopback, or a private-use scheme",
            examples=[["https://app.example.com/callback"]],
        ),
    ] = []
    grant_types: Annotated[list[GrantType], Field(min_length=1, max_length=3)] = [
        "client_credentials"
    ]
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"  # noqa: S105
    first_party: StrictBool = Field(
        default=False, description="The operator's own application: no consent is asked"
    )


class ClientCreatedOut(BaseModel):
    """The only time the secret is shown (none for a public client)."""

    client_id: str
    client_secret: str | None
    name: str
    scopes: list[str]
    created_at: datetime
    redirect_uris: list[str]
    grant_types: list[str]
    token_endpoint_auth_method: str
    first_party: bool


class ClientOut(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None
    redirect_uris: list[str]
    grant_types: list[str]
    token_endpoint_auth_method: str
    first_party: bool

    @classmethod
    def of(cls, client: ServiceClient) -> "ClientOut":
        return cls(
            client_id=client.client_id,
            name=client.name,
            scopes=sorted(s.value for s in client.scopes),
            created_at=client.created_at,
            revoked_at=client.revoked_at,
            redirect_uris=list(client.redirect_uris),
            grant_types=sorted(client.grant_types),
            token_endpoint_auth_method=client.token_endpoint_auth_method,
            first_party=client.first_party,
        )


class ClientListOut(BaseModel):
    items: list[ClientOut]
