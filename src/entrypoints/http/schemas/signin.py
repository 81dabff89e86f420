"""Shapes of the OpenID Connect endpoints that answer JSON."""

from pydantic import BaseModel, ConfigDict, Field


class UserInfoOut(BaseModel):
    """OIDC Core §5.1 standard claims."""

    model_config = ConfigDict(extra="allow")

    sub: str = Field(description="The user id")
    email: str | None = None
    email_verified: bool | None = None
    preferred_username: str | None = None
    name: str | None = None
    updated_at: int | None = None
