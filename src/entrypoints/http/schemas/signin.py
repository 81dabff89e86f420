"""Shapes of the OpenID Connect endpoints that answer JSON."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.signin.authorization import Consent
from domain.signin.external import ExternalIdentity


class UserInfoOut(BaseModel):
    """OIDC Core §5.1 standard claims."""

    model_config = ConfigDict(extra="allow")

    sub: str = Field(description="The user id")
    email: str | None = None
    email_verified: bool | None = None
    preferred_username: str | None = None
    name: str | None = None
    updated_at: int | None = None


class ConsentOut(BaseModel):
    client_id: str
    scopes: list[str]
    granted_at: datetime

    @classmethod
    def of(cls, consent: Consent) -> "ConsentOut":
        return cls(
            client_id=consent.client_id,
            scopes=sorted(consent.scopes),
            granted_at=consent.granted_at,
        )


class ConsentListOut(BaseModel):
    items: list[ConsentOut]


class ExternalIdentityOut(BaseModel):
    provider: str
    subject: str
    email: str | None
    linked_at: datetime

    @classmethod
    def of(cls, identity: ExternalIdentity) -> "ExternalIdentityOut":
        return cls(
            provider=identity.provider,
            subject=identity.subject,
            email=identity.email,
            linked_at=identity.linked_at,
        )


class ExternalIdentityListOut(BaseModel):
    items: list[ExternalIdentityOut]


class ExternalIdentityLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(
        min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9-]{0,31}$", examples=["corp"]
    )
    subject: str = Field(
        min_length=1, max_length=255, description="The provider's `sub` for the person"
    )
