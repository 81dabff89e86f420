"""Shapes of the identity endpoints."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from application.identity.token_pairs import TokenPair
from application.identity.use_cases.list_own_sessions import SessionView
from domain.common.errors import InvalidValueError
from domain.identity.value_objects import Email
from entrypoints.http.schemas.users import (
    EmailField,
    FullNameField,
    Input,
    NewPasswordField,
    PasswordField,
    ReauthPasswordField,
    UsernameField,
)

TokenField = Field(max_length=4096)


class RegisterIn(Input):
    email: EmailField
    username: UsernameField
    password: NewPasswordField
    full_name: FullNameField | None = None


class LoginIn(Input):
    username: str = Field(max_length=320, description="The username or the email address")
    password: PasswordField


class RefreshIn(Input):
    refresh_token: str = TokenField


class TokenPairOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - the RFC 6750 scheme name, not a secret
    expires_in: int
    refresh_expires_in: int

    @classmethod
    def of(cls, pair: TokenPair) -> "TokenPairOut":
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type=pair.token_type,
            expires_in=pair.expires_in,
            refresh_expires_in=pair.refresh_expires_in,
        )


class OAuthTokenOut(BaseModel):
    """RFC 6749 §5.1."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the RFC 6750 scheme name, not a secret
    expires_in: int
    refresh_token: str | None = None
    refresh_expires_in: int | None = None
    scope: str | None = None
    id_token: str | None = Field(
        default=None, description="OpenID Connect: with scope `openid` (code grant only)"
    )


class ProfileUpdateIn(Input):
    email: EmailField | None = None
    username: UsernameField | None = None
    full_name: FullNameField | None = None
    current_password: ReauthPasswordField = None


class PasswordChangeIn(Input):
    current_password: PasswordField
    new_password: NewPasswordField


class SessionOut(BaseModel):
    id: UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool

    @classmethod
    def of(cls, view: SessionView) -> "SessionOut":
        s = view.session
        return cls(
            id=s.id,
            created_at=s.created_at,
            last_used_at=s.last_used_at,
            expires_at=s.expires_at,
            ip=s.ip,
            user_agent=s.user_agent,
            current=view.current,
        )


class SessionListOut(BaseModel):
    items: list[SessionOut]


class AcceptedOut(BaseModel):
    """Taken; what follows happens after the answer (and tells nothing about accounts)."""

    status: Literal["accepted"] = "accepted"


class VerifyEmailIn(Input):
    token: str = TokenField


class PasswordResetRequestIn(Input):
    email: EmailField

    @field_validator("email")
    @classmethod
    def _an_address(cls, value: str) -> str:
        """Nothing else reads the address before the answer (the lookup happens after
        it, so timing tells nothing): judge its form here, as registration does."""
        try:
            Email(value)
        except InvalidValueError as error:
            raise ValueError(error.message) from None
        return value


class PasswordResetConfirmIn(Input):
    token: str = TokenField
    new_password: NewPasswordField
