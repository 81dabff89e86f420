"""Discovery for stock OAuth 2.0 / OpenID clients and resource servers: the public
signing keys (RFC 7517) and the provider metadata (OpenID Connect Discovery 1.0,
RFC 8414), honest about what is supported."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from application.signin.requests import SUPPORTED_SCOPES
from entrypoints.http.dependencies import container_of
from entrypoints.http.schemas.oauth import JwksOut, ProviderMetadataOut

router = APIRouter(tags=["discovery"])


@router.get("/.well-known/jwks.json", operation_id="getJwks", response_model=JwksOut)
async def jwks(request: Request) -> JSONResponse:
    """Public keys that verify tokens now: the signing key and retired keys whose tokens
    may still be alive. Symmetric (HS256) keys are never published."""
    container = container_of(request)
    now = container.clock().now()
    keys = container.key_ring().jwks(now)
    id_ring = container.id_token_ring()
    if id_ring is not container.key_ring():  # HS256 access tokens: id_tokens' own keys
        keys += id_ring.jwks(now)
    # Five minutes: a rotated key is published before it signs, so caches stay correct;
    # a resource server seeing an unknown kid refetches anyway.
    return JSONResponse({"keys": keys}, headers={"Cache-Control": "public, max-age=300"})


def _metadata(request: Request) -> dict[str, object]:
    container = container_of(request)
    settings = container.settings()
    base = settings.oidc_issuer
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "token_endpoint": f"{base}/api/v1/auth/token",
        "userinfo_endpoint": f"{base}/oauth2/userinfo",
        "end_session_endpoint": f"{base}/oauth2/logout",
        "revocation_endpoint": f"{base}/api/v1/auth/revoke",
        "introspection_endpoint": f"{base}/api/v1/auth/introspect",
        "jwks_uri": f"{base}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
        ],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
        "access_token_signing_alg_values_supported": [settings.jwt_algorithm],
        "scopes_supported": list(SUPPORTED_SCOPES),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": container.id_tokens().algorithms,
        "userinfo_signing_alg_values_supported": ["none"],
        "claims_supported": [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "sid",
            "azp",
            "email",
            "email_verified",
            "preferred_username",
            "name",
            "updated_at",
        ],
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": f"{base}/docs",
    }


@router.get(
    "/.well-known/openid-configuration",
    operation_id="getOpenidConfiguration",
    response_model_exclude_none=True,
)
async def openid_configuration(request: Request) -> ProviderMetadataOut:
    """OpenID Connect Discovery 1.0 §3: every endpoint listed here is served."""
    return ProviderMetadataOut.model_validate(_metadata(request))


@router.get(
    "/.well-known/oauth-authorization-server",
    operation_id="getAuthorizationServerMetadata",
    response_model_exclude_none=True,
)
async def authorization_server_metadata(request: Request) -> ProviderMetadataOut:
    """RFC 8414 §2: the same metadata as the OpenID document."""
    return ProviderMetadataOut.model_validate(_metadata(request))
