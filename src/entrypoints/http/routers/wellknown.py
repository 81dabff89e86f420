"""Discovery for stock OAuth 2.0 / OpenID clients and resource servers: the public
signing keys (RFC 7517) and the provider metadata (OpenID Connect Discovery 1.0,
RFC 8414), honest about what is supported."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from domain.access.permissions import Permission
from entrypoints.http.dependencies import container_of
from entrypoints.http.schemas.oauth import JwksOut, ProviderMetadataOut

router = APIRouter(tags=["discovery"])


@router.get("/.well-known/jwks.json", operation_id="getJwks", response_model=JwksOut)
async def jwks(request: Request) -> JSONResponse:
    """Public keys that verify tokens now: the signing key and retired keys whose tokens
    may still be alive. Symmetric (HS256) keys are never published."""
    container = container_of(request)
    keys = container.key_ring().jwks(container.clock().now())
    # Five minutes: a rotated key is published before it signs, so caches stay correct;
    # a resource server seeing an unknown kid refetches anyway.
    return JSONResponse({"keys": keys}, headers={"Cache-Control": "public, max-age=300"})


@router.get(
    "/.well-known/openid-configuration",
    operation_id="getOpenidConfiguration",
    response_model_exclude_none=True,
)
async def openid_configuration(request: Request) -> ProviderMetadataOut:
    settings = container_of(request).settings()
    base = settings.effective_public_base_url.rstrip("/")
    return ProviderMetadataOut.model_validate(
        {
            "issuer": settings.effective_jwt_issuer,
            "token_endpoint": f"{base}/api/v1/auth/token",
            "revocation_endpoint": f"{base}/api/v1/auth/revoke",
            "introspection_endpoint": f"{base}/api/v1/auth/introspect",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "grant_types_supported": ["password", "refresh_token", "client_credentials"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic"],
            "token_endpoint_auth_signing_alg_values_supported": [],
            "access_token_signing_alg_values_supported": [settings.jwt_algorithm],
            "scopes_supported": sorted(p.value for p in Permission),
            # Not an OpenID provider for browsers: no authorization endpoint, no ID tokens,
            # no user-info endpoint. Said plainly rather than implied.
            "response_types_supported": [],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [],
            "claims_supported": [
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "nbf",
                "jti",
                "sid",
                "client_id",
                "scope",
            ],
            "service_documentation": f"{base}/docs",
        }
    )
