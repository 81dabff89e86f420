"""Shapes shared by every route: the error envelope and field-error details."""

from typing import Any

from pydantic import BaseModel


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str | None = None


class ErrorBody(BaseModel):
    error: str
    message: str
    request_id: str | None
    details: list[FieldError] | dict[str, Any] | None = None
