"""`/api/v1/keys`: signing-key rotation."""

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel

from application.tokens.use_cases.rotate_signing_key import RotateSigningKey
from entrypoints.http.dependencies import CurrentPrincipal, use_case
from entrypoints.http.errors import error_responses

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


class RotatedKeyOut(BaseModel):
    kid: str
    algorithm: str


@router.post(
    "/rotate",
    operation_id="rotateSigningKey",
    responses=error_responses(401, 403, 409, 503),
    description=RotateSigningKey.__doc__,
)
async def rotate(
    principal: CurrentPrincipal,
    rotate_key: Annotated[RotateSigningKey, use_case(lambda c: c.rotate_signing_key)],
) -> RotatedKeyOut:
    key = await rotate_key.execute(principal)
    return RotatedKeyOut(kid=key.kid, algorithm=key.algorithm.value)
