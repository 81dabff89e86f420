"""`/api/v1/clients`: service clients for the client-credentials grant."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status

from application.tokens.use_cases.manage_clients import (
    CreateClient,
    CreateClientCommand,
    ListClients,
    RevokeClient,
)
from entrypoints.http.dependencies import CurrentPrincipal, require_json, use_case
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.access import values
from entrypoints.http.schemas.clients import (
    ClientCreatedOut,
    ClientCreateIn,
    ClientListOut,
    ClientOut,
)

router = APIRouter(prefix="/api/v1/clients", tags=["clients"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_json)],
    responses=error_responses(401, 403, 415, 422, 503),
    description=CreateClient.__doc__,
)
async def create_client(
    body: ClientCreateIn,
    response: Response,
    principal: CurrentPrincipal,
    create: Annotated[CreateClient, use_case(lambda c: c.create_client)],
) -> ClientCreatedOut:
    registered = await create.execute(
        principal,
        CreateClientCommand(
            name=body.name,
            scopes=values(body.scopes),
            redirect_uris=body.redirect_uris,
            grant_types=list(body.grant_types),
            token_endpoint_auth_method=body.token_endpoint_auth_method,
            first_party=body.first_party,
        ),
    )
    response.headers["Cache-Control"] = "no-store"
    client = registered.client
    return ClientCreatedOut(
        **ClientOut.of(client).model_dump(exclude={"revoked_at"}),
        client_secret=registered.secret,
    )


@router.get("", responses=error_responses(401, 403, 503), description=ListClients.__doc__)
async def list_clients(
    principal: CurrentPrincipal,
    list_all: Annotated[ListClients, use_case(lambda c: c.list_clients)],
) -> ClientListOut:
    return ClientListOut(items=[ClientOut.of(c) for c in await list_all.execute(principal)])


@router.delete(
    "/{client_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 503),
    description=RevokeClient.__doc__,
)
async def revoke_client(
    client_id: Annotated[str, Path(max_length=64)],
    principal: CurrentPrincipal,
    revoke: Annotated[RevokeClient, use_case(lambda c: c.revoke_client)],
) -> None:
    await revoke.execute(principal, client_id)
