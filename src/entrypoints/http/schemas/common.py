"""Shapes shared by every route: the error envelope and field-error details."""

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    """RFC 3339 `date-time` text, as documented: pydantic alone would also take a Unix
    timestamp or a space for the `T`. A zone is required (`AwareDatetime`): a naive time
    cannot be compared with the service's UTC clock."""
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.match(value)):
        return value
    raise ValueError("must be an RFC 3339 date-time with a time zone, e.g. 2030-01-01T00:00:00Z")


DateTimeField = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: `body`, `query` or `path`, then the field")
    msg: str
    type: str | None = None


class ErrorBody(BaseModel):
    """The one error envelope. `error` is a stable machine code, `message` is for people."""

    error: str = Field(examples=["conflict"])
    message: str = Field(examples=["email already registered"])
    request_id: str | None = Field(description="Also sent as the `X-Request-ID` header")
    details: list[FieldError] | dict[str, Any] | None = Field(
        default=None, description="For 422, the list of field errors"
    )


class OAuthErrorBody(ErrorBody):
    """The envelope on the OAuth endpoints. For OAuth errors `error` is an RFC 6749 §5.2
    code (`invalid_request`, `invalid_grant`, `invalid_client`, `unsupported_grant_type`,
    `invalid_scope`, `insufficient_scope`) and `error_description` is present."""

    error_description: str | None = Field(
        default=None, description="The same as `message`, under the name RFC 6749 gives it"
    )
