"""User shapes on the wire. A password or its hash never appears in an output model."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from domain.user import User

# Generous outer bounds only; the domain's value objects give the precise rule and message.
EmailField = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"})]
UsernameField = Annotated[str, Field(max_length=64, examples=["ada"])]
FullNameField = Annotated[str, Field(max_length=256, examples=["Ada Lovelace"])]
# Far above any policy maximum: refuses megabyte "passwords" before anything else runs.
PasswordField = Annotated[str, Field(max_length=1024, json_schema_extra={"format": "password"})]


class Input(BaseModel):
    """Unknown fields are refused, so nobody can slip `roles` or `is_active` into a form
    that does not take them."""

    model_config = ConfigDict(extra="forbid")


class UserOut(BaseModel):
    id: UUID
    email: str
    username: str
    full_name: str | None
    is_active: bool
    is_verified: bool
    roles: list[str]
    oauth_provider: str | None
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, user: User) -> "UserOut":
        return cls(
            id=user.id,
            email=user.email.value,
            username=user.username.value,
            full_name=user.full_name.value if user.full_name else None,
            is_active=user.is_active,
            is_verified=user.is_verified,
            roles=sorted(user.roles),
            oauth_provider=user.oauth_provider,
            created_at=user.created_at,
            updated_at=user.updated_at,
            last_login_at=user.last_login_at,
        )


class UserPageOut(BaseModel):
    items: list[UserOut]
    next_cursor: str | None
    limit: int


class UserCreateIn(Input):
    email: EmailField
    username: UsernameField
    password: PasswordField
    full_name: FullNameField | None = None
    roles: list[str] = Field(default_factory=lambda: ["user"], max_length=16)
    is_active: bool = True
    is_verified: bool = False


class UserReplaceIn(Input):
    """PUT: every editable field, `full_name` may be null to remove it."""

    email: EmailField
    username: UsernameField
    full_name: FullNameField | None
    is_active: bool
    is_verified: bool
    roles: list[str] = Field(max_length=16)


class UserPatchIn(Input):
    """PATCH: only the fields present change; `full_name: null` removes it."""

    email: EmailField | None = None
    username: UsernameField | None = None
    full_name: FullNameField | None = None
    is_active: bool | None = None
    is_verified: bool | None = None
    roles: list[str] | None = Field(default=None, max_length=16)
