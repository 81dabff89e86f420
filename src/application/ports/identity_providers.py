from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderInfo:
    name: str
    """The URL slug, `OIDC_PROVIDERS[].name`."""
    display_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UpstreamIdentity:
    """What a verified upstream id_token says of the person."""

    provider: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class IdentityProviders(Protocol):
    """External OpenID providers configured by the operator.

    `authorization_url` and `exchange` raise `UpstreamUnavailableError` (a
    `ServiceUnavailableError`) when the provider cannot be reached or answers nonsense,
    `UnknownProviderError` for a name not configured, and `exchange` raises
    `UpstreamRejectedError` when the code is refused or the id_token does not verify
    (signature from the provider's JWKS, issuer, audience, expiry, nonce)."""

    @abstractmethod
    def providers(self) -> list[ProviderInfo]: ...

    @abstractmethod
    async def authorization_url(
        self, name: str, *, redirect_uri: str, state: str, nonce: str, code_challenge: str
    ) -> str: ...

    @abstractmethod
    async def exchange(
        self, name: str, *, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> UpstreamIdentity: ...
