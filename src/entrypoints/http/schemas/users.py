"""User shapes on the wire. A password or its hash never appears in an output model."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    model_serializer,
)

from application.ports.user_repository import ListedUser
from domain.identity.user import User

# The rules the domain's value objects apply, stated so the OpenAPI document carries them
# and a request that breaks one is refused here, field by field. The domain still checks.
# RFC 5321 §4.5.3.1: at most 64 octets before the "@", 254 in all.
EmailField = Annotated[
    str, Field(max_length=254, json_schema_extra={"format": "email"}, examples=["ada@example.com"])
]
# Case-insensitive: stored lower-cased, so "Ada" and "ada" are one account.
USERNAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{1,30}[A-Za-z0-9])?$"
UsernameField = Annotated[
    str,
    Field(
        min_length=3,
        max_length=32,
        pattern=USERNAME_PATTERN,
        description="3-32 characters of a-z, 0-9, '.', '_' or '-', starting and ending with "
        "a letter or digit; stored lower-cased",
        examples=["ada"],
    ),
]
# Printable text, as Python's `str.isprintable` judges it: no control, format, private-use
# or unassigned character, and no separator but the plain space.
PRINTABLE = r"^(?:[^\p{C}\p{Z}]|\x20)*$"
# The same with at least one visible character (surrounding spaces are trimmed).
VISIBLE = r"^(?:[^\p{C}\p{Z}]|\x20)*[^\p{C}\p{Z}](?:[^\p{C}\p{Z}]|\x20)*$"
FullNameField = Annotated[str, Field(max_length=128, pattern=PRINTABLE, examples=["Ada Lovelace"])]
NameField = Annotated[str, Field(max_length=100, pattern=VISIBLE)]
# Far above any policy maximum: refuses megabyte "passwords" before anything else runs.
PasswordField = Annotated[str, Field(max_length=1024, json_schema_extra={"format": "password"})]
# Not required by the schema: an account without a password (it signs in elsewhere)
# re-authenticates by a recent sign-in instead, so only the service can tell.
ReauthPasswordField = Annotated[
    str | None,
    Field(
        max_length=1024,
        json_schema_extra={"format": "password"},
        description="The account's password, proving the change is the owner's (OWASP ASVS "
        "5.0 V7.5). Wrong, or missing where needed: 400 `bad_request` (detail type "
        "`invalid_current_password`). A sign-in within REAUTH_WINDOW_SECONDS stands in for "
        "it for a username change or a new API key, and for every change of an account "
        "without a password (else detail type `reauthentication_required`)",
    ),
]
# Replaced in the OpenAPI document by PASSWORD_MIN_LENGTH and PASSWORD_MAX_LENGTH.
NEW_PASSWORD_MARKER = "x-new-password"  # noqa: S105 - a JSON Schema key, not a secret
NewPasswordField = Annotated[
    str,
    Field(
        max_length=1024,
        json_schema_extra={"format": "password", NEW_PASSWORD_MARKER: True},
        examples=["ample orbit kettle 91"],
        description="Between PASSWORD_MIN_LENGTH and PASSWORD_MAX_LENGTH characters; must not "
        "contain the username or the email address, and must not be a commonly used password "
        "(422 `validation_error` otherwise)",
    ),
]
# 2-32 characters, a letter first; stored lower-cased.
ROLE_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]{1,31}$"
RoleNameField = Annotated[str, Field(pattern=ROLE_NAME_PATTERN, examples=["support"])]
# A role given to a user: it must exist (422 otherwise).
RoleReference = Annotated[str, Field(pattern=ROLE_NAME_PATTERN, examples=["user"])]
RoleNames = Annotated[
    list[RoleReference], Field(max_length=16, description="Existing roles (422 for another)")
]


class Input(BaseModel):
    """Unknown fields are refused, so nobody can slip `roles` or `is_active` into a form
    that does not take them."""

    model_config = ConfigDict(extra="forbid")


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


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
    # Administrators' view only: present when the caller holds `users:read`, never on
    # /auth/me; left out of the body unless `of` was given a time to judge the lock at.
    # The defaults only make the fields optional; the document shows none (absent means
    # "not shown to you", not "false").
    locked: bool = Field(
        default=False,
        description="Administrators only: whether sign-in is locked now (too many failures)",
        json_schema_extra=_no_default,
    )
    locked_until: datetime | None = Field(
        default=None,
        description="Administrators only: when the lock ends; null when not locked",
        json_schema_extra=_no_default,
    )

    # No return annotation: with one, pydantic would describe the output by it, not by
    # the fields, and the OpenAPI document would lose the User shape.
    @model_serializer(mode="wrap")
    def _admin_view(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data = handler(self)
        if "locked" not in self.model_fields_set and isinstance(data, dict):
            data.pop("locked", None)
            data.pop("locked_until", None)
        return data

    @classmethod
    def of(cls, user: User, *, lock_seen_at: datetime | None = None) -> "UserOut":
        """`lock_seen_at`: the time to judge the lock at, for an administrator's view;
        None leaves the lock fields out."""
        return cls(**_fields(user, lock_seen_at))


def _fields(user: User, lock_seen_at: datetime | None) -> dict[str, Any]:
    return _listed_fields(ListedUser.of(user), lock_seen_at)


def _listed_fields(user: ListedUser, lock_seen_at: datetime | None) -> dict[str, Any]:
    # In the order of UserOut's fields: `user_page_json` writes them as they come.
    fields = {
        "id": user.id,
        "email": user.email,
        "username": user.username,
        "full_name": user.full_name,
        "is_active": user.is_active,
        "is_verified": user.is_verified,
        "roles": list(user.roles),
        "oauth_provider": user.oauth_provider,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "last_login_at": user.last_login_at,
    }
    if lock_seen_at is not None:
        locked = user.is_locked(lock_seen_at)
        fields["locked"] = locked
        fields["locked_until"] = user.locked_until if locked else None
    return fields


class UserPageOut(BaseModel):
    items: list[UserOut]
    next_cursor: str | None
    limit: int


# `UserOut`'s bytes without the model: its fields in its order (`_listed_fields`) with
# its encodings (UTC instants ending in "Z", UUIDs in their hyphenated form), written by
# orjson, which takes half pydantic's time on a 100-user page (tested byte for byte
# against the model).
_JSON_OPTIONS = orjson.OPT_UTC_Z


def _json_default(value: object) -> str:
    if isinstance(value, UUID):  # asyncpg's own UUID class, which orjson does not know
        return str(value)
    raise TypeError(f"{type(value).__name__} is not part of a user's body")


def _dump(value: object) -> bytes:
    return orjson.dumps(value, default=_json_default, option=_JSON_OPTIONS)


def user_json(user: User) -> bytes:
    """A `UserOut` body (without the lock fields), serialised straight from the user: no
    model and no validation, as for a page (`/auth/me` is the hottest read of all)."""
    return _dump(_fields(user, None))


def user_page_json(
    users: list[ListedUser],
    *,
    next_cursor: str | None,
    limit: int,
    lock_seen_at: datetime | None,
) -> bytes:
    """A `UserPageOut` body, serialised straight from the listed users: no model per
    user and no validation (every field comes from a stored user), which had been most
    of the CPU of a 100-user page."""
    items = [_listed_fields(user, lock_seen_at) for user in users]
    return _dump({"items": items, "next_cursor": next_cursor, "limit": limit})


class UserCreateIn(Input):
    email: EmailField
    username: UsernameField
    password: NewPasswordField
    full_name: FullNameField | None = None
    roles: RoleNames = Field(default_factory=lambda: ["user"])
    is_active: StrictBool = True
    is_verified: StrictBool = False


class UserReplaceIn(Input):
    """PUT: every editable field, `full_name` may be null to remove it."""

    email: EmailField
    username: UsernameField
    full_name: FullNameField | None
    is_active: StrictBool
    is_verified: StrictBool
    roles: RoleNames


class UserPatchIn(Input):
    """PATCH: only the fields present change; `full_name: null` removes it."""

    email: EmailField | None = None
    username: UsernameField | None = None
    full_name: FullNameField | None = None
    is_active: StrictBool | None = None
    is_verified: StrictBool | None = None
    roles: RoleNames | None = None
