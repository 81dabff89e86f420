"""Shapes of the OAuth 2.0 endpoints and of discovery: the form bodies (RFC 6749, RFC 7009,
RFC 7662), the introspection answer, the JWKS (RFC 7517) and the provider metadata
(OpenID Connect Discovery 1.0, RFC 8414).

Form models ignore parameters they do not know: RFC 6749 §3.2 says unrecognised request
parameters MUST be ignored.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

GRANT_TYPES = ("password", "refresh_token", "client_credentials", "authorization_code")

FormText = Annotated[str | None, Field(max_length=4096)]
TokenText = Annotated[str, Field(min_length=1, max_length=4096)]
TokenTypeHint = Annotated[
    str | None,
    Field(
        max_length=64,
        description="`access_token` or `refresh_token`; only decides which kind is tried "
        "first, an unknown hint is ignored (RFC 7009 §2.1)",
        examples=["refresh_token"],
    ),
]


class TokenRequest(BaseModel):
    """RFC 6749 §4.3.2 (`password`: `username`, `password`), §6 (`refresh_token`:
    `refresh_token`) and §4.4.2 (`client_credentials`: the client authenticates with
    HTTP Basic or `client_id` + `client_secret`)."""

    # Documented as the enum; any other value is answered `unsupported_grant_type`
    # (RFC 6749 §5.2), not a generic validation error.
    grant_type: str = Field(max_length=64, json_schema_extra={"enum": list(GRANT_TYPES)})
    username: FormText = Field(default=None, description="The username or the email address")
    password: FormText = Field(default=None, json_schema_extra={"format": "password"})
    refresh_token: FormText = None
    scope: FormText = Field(
        default=None,
        description="Space-separated permissions for `client_credentials`; ignored for "
        "people, whose tokens carry their own rights",
    )
    client_id: FormText = None
    client_secret: FormText = Field(default=None, json_schema_extra={"format": "password"})
    code: FormText = Field(default=None, description="`authorization_code`: the code")
    redirect_uri: FormText = Field(
        default=None, description="`authorization_code`: the redirect URI of the request"
    )
    code_verifier: FormText = Field(
        default=None, description="`authorization_code`: the PKCE verifier (RFC 7636)"
    )


class RevocationRequest(BaseModel):
    """RFC 7009 §2.1."""

    token: TokenText
    token_type_hint: TokenTypeHint = None


class IntrospectionRequest(BaseModel):
    """RFC 7662 §2.1."""

    token: TokenText
    token_type_hint: TokenTypeHint = None


class RevocationOut(BaseModel):
    """RFC 7009 §2.2: an empty answer, the same whether or not the token was valid."""

    model_config = ConfigDict(extra="forbid")


class IntrospectionOut(BaseModel):
    """RFC 7662 §2.2: `{"active": false}` alone for anything not usable now; the claims
    for an active access or refresh token."""

    active: bool
    token_type: str | None = Field(default=None, examples=["Bearer"])
    scope: str | None = None
    client_id: str | None = None
    username: str | None = None
    sub: str | None = None
    aud: str | list[str] | None = None
    iss: str | None = None
    exp: int | None = None
    iat: int | None = None
    nbf: int | None = None
    jti: str | None = None
    sid: str | None = Field(default=None, description="The session the token belongs to")


class Jwk(BaseModel):
    """A public key (RFC 7517 §4); RSA keys carry `n` and `e`, OKP (Ed25519) keys
    `crv` and `x`."""

    model_config = ConfigDict(extra="allow")

    kty: str = Field(examples=["RSA"])
    kid: str
    use: str | None = Field(default=None, examples=["sig"])
    alg: str | None = Field(default=None, examples=["RS256"])
    n: str | None = None
    e: str | None = None
    crv: str | None = None
    x: str | None = None


class JwksOut(BaseModel):
    """RFC 7517 §5. Empty while tokens are signed with a shared secret (HS256)."""

    keys: list[Jwk]


class ProviderMetadataOut(BaseModel):
    """OpenID Connect Discovery 1.0 §3 / RFC 8414 §2. Lists only what is offered, and
    every endpoint listed is served."""

    model_config = ConfigDict(extra="allow")

    issuer: str
    jwks_uri: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    end_session_endpoint: str
    response_types_supported: list[str]
    code_challenge_methods_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    revocation_endpoint: str | None = None
    introspection_endpoint: str | None = None
    grant_types_supported: list[str] | None = None
    token_endpoint_auth_methods_supported: list[str] | None = None
    revocation_endpoint_auth_methods_supported: list[str] | None = None
    introspection_endpoint_auth_methods_supported: list[str] | None = None
    token_endpoint_auth_signing_alg_values_supported: list[str] | None = None
    access_token_signing_alg_values_supported: list[str] | None = None
    scopes_supported: list[str] | None = None
    claims_supported: list[str] | None = None
    service_documentation: str | None = None
    response_modes_supported: list[str] | None = None
    userinfo_signing_alg_values_supported: list[str] | None = None
    authorization_response_iss_parameter_supported: bool | None = None
