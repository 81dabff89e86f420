"""`/api/v1/api-keys`: long-lived keys that act as their owner within their scopes."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from application.access.use_cases.manage_api_keys import (
    CreateApiKey,
    CreateApiKeyCommand,
    ListApiKeys,
    RevokeApiKey,
)
from entrypoints.http.dependencies import CurrentPrincipal, require_json, use_case
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.access import (
    ApiKeyCreatedOut,
    ApiKeyCreateIn,
    ApiKeyListOut,
    ApiKeyOut,
    values,
)

router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_json)],
    responses=error_responses(400, 401, 403, 415, 422, 503),
    description=CreateApiKey.__doc__,
)
async def create_api_key(
    body: ApiKeyCreateIn,
    response: Response,
    principal: CurrentPrincipal,
    create: Annotated[CreateApiKey, use_case(lambda c: c.create_api_key)],
) -> ApiKeyCreatedOut:
    issued = await create.execute(
        principal,
        CreateApiKeyCommand(
            name=body.name,
            scopes=values(body.scopes),
            expires_at=body.expires_at,
            current_password=body.current_password,
        ),
    )
    response.headers["Cache-Control"] = "no-store"
    key = issued.key
    return ApiKeyCreatedOut(
        id=key.id,
        key=issued.secret,
        prefix=key.prefix,
        name=key.name,
        scopes=sorted(key.scopes),
        created_at=key.created_at,
        expires_at=key.expires_at,
    )


@router.get("", responses=error_responses(401, 403, 503), description=ListApiKeys.__doc__)
async def list_api_keys(
    principal: CurrentPrincipal,
    list_keys: Annotated[ListApiKeys, use_case(lambda c: c.list_api_keys)],
    owner_id: UUID | None = None,
    all: Annotated[bool, Query(description="every owner's keys (api_keys:manage)")] = False,
) -> ApiKeyListOut:
    keys = await list_keys.execute(principal, owner_id=owner_id, everyone=all)
    return ApiKeyListOut(items=[ApiKeyOut.of(k) for k in keys])


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422, 503),
    description=RevokeApiKey.__doc__,
)
async def revoke_api_key(
    key_id: UUID,
    principal: CurrentPrincipal,
    revoke: Annotated[RevokeApiKey, use_case(lambda c: c.revoke_api_key)],
) -> None:
    await revoke.execute(principal, key_id)
