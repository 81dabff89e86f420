"""External OpenID providers over HTTP (httpx): discovery (OIDC Discovery 1.0), the
authorization code exchange with PKCE, and id_token verification with PyJWT against the
provider's JWKS (OIDC Core §3.1.3.7)."""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from application.errors import (
    UnknownProviderError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from application.ports.identity_providers import IdentityProviders, ProviderInfo, UpstreamIdentity

# Asymmetric only: an HS256 id_token would be keyed with our client secret, and we
# never let a token choose its algorithm (RFC 8725 §3.1).
_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
_METADATA_TTL_SECONDS = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderConfig:
    name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    display_name: str


@dataclass(slots=True)
class _Discovered:
    metadata: dict[str, Any]
    jwks: jwt.PyJWKSet | None
    fetched_at: float


class HttpxIdentityProviders(IdentityProviders):
    """Metadata and keys are fetched on first use and kept an hour; an unknown `kid`
    refetches the JWKS once (the provider rotated). Every network or protocol failure is
    `UpstreamUnavailableError`: the person sees "try again later", never a 500."""

    def __init__(
        self,
        configs: Sequence[ProviderConfig],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_seconds: float = 5.0,
        leeway_seconds: int = 60,
    ) -> None:
        self._configs = {c.name: c for c in configs}
        self._transport = transport
        self._timeout = timeout_seconds
        self._leeway = leeway_seconds
        self._discovered: dict[str, _Discovered] = {}
        self._lock = asyncio.Lock()

    def providers(self) -> list[ProviderInfo]:
        return [
            ProviderInfo(name=c.name, display_name=c.display_name) for c in self._configs.values()
        ]

    def _config(self, name: str) -> ProviderConfig:
        config = self._configs.get(name)
        if config is None:
            raise UnknownProviderError()
        return config

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self._transport, timeout=self._timeout)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._client() as client:
                response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise UpstreamUnavailableError() from error
        if not isinstance(body, dict):
            raise UpstreamUnavailableError()
        return body

    async def _discover(self, config: ProviderConfig, *, refresh_keys: bool = False) -> _Discovered:
        async with self._lock:
            known = self._discovered.get(config.name)
            fresh = (
                known is not None and time.monotonic() - known.fetched_at < _METADATA_TTL_SECONDS
            )
            if known is not None and fresh and not refresh_keys:
                return known
            metadata = await self._get_json(
                config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            )
            # OIDC Discovery §4.3: the issuer in the document must be the one configured.
            if (
                metadata.get("issuer") != config.issuer.rstrip("/")
                and metadata.get("issuer") != config.issuer
            ):
                raise UpstreamUnavailableError()
            for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(metadata.get(needed), str):
                    raise UpstreamUnavailableError()
            try:
                jwks = jwt.PyJWKSet.from_dict(await self._get_json(metadata["jwks_uri"]))
            except jwt.PyJWKSetError as error:
                raise UpstreamUnavailableError() from error
            found = _Discovered(metadata=metadata, jwks=jwks, fetched_at=time.monotonic())
            self._discovered[config.name] = found
            return found

    async def authorization_url(
        self, name: str, *, redirect_uri: str, state: str, nonce: str, code_challenge: str
    ) -> str:
        config = self._config(name)
        metadata = (await self._discover(config)).metadata
        query = urlencode(
            {
                "response_type": "code",
                "client_id": config.client_id,
                "redirect_uri": redirect_uri,
                "scope": "openid email profile",
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        endpoint: str = metadata["authorization_endpoint"]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    async def exchange(
        self, name: str, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> UpstreamIdentity:
        config = self._config(name)
        discovered = await self._discover(config)
        try:
            async with self._client() as client:
                response = await client.post(
                    discovered.metadata["token_endpoint"],
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": redirect_uri,
                        "code_verifier": code_verifier,
                    },
                    auth=(config.client_id, config.client_secret),
                    headers={"Accept": "application/json"},
                )
        except httpx.HTTPError as error:
            raise UpstreamUnavailableError() from error
        if response.status_code >= 500:
            raise UpstreamUnavailableError()
        try:
            body = response.json()
        except ValueError as error:
            raise UpstreamUnavailableError() from error
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if response.status_code != 200 or not isinstance(id_token, str):
            raise UpstreamRejectedError()
        claims = await self._verified(config, discovered, id_token, nonce)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise UpstreamRejectedError()
        email = claims.get("email")
        name_claim = claims.get("name")
        return UpstreamIdentity(
            provider=config.name,
            subject=subject,
            email=email if isinstance(email, str) else None,
            email_verified=claims.get("email_verified") is True,
            name=name_claim if isinstance(name_claim, str) else None,
        )

    async def _verified(
        self, config: ProviderConfig, discovered: _Discovered, token: str, nonce: str
    ) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = _key(discovered.jwks, kid)
            if key is None:  # rotated since we looked: once more, freshly
                discovered = await self._discover(config, refresh_keys=True)
                key = _key(discovered.jwks, kid)
            if key is None or key.algorithm_name not in _ALGORITHMS:
                raise UpstreamRejectedError()
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                audience=config.client_id,
                issuer=discovered.metadata["issuer"],
                leeway=self._leeway,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.PyJWTError as error:
            raise UpstreamRejectedError() from error
        # OIDC Core §3.1.3.7: the nonce we sent, so a replayed id_token is refused.
        if claims.get("nonce") != nonce:
            raise UpstreamRejectedError()
        return claims


def _key(jwks: jwt.PyJWKSet | None, kid: object) -> jwt.PyJWK | None:
    if jwks is None or not isinstance(kid, str):
        return None
    try:
        return jwks[kid]
    except KeyError:
        return None
