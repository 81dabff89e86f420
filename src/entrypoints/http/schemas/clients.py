from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from domain.tokens.service_clients import ServiceClient
from entrypoints.http.schemas.access import PermissionList
from entrypoints.http.schemas.users import Input, NameField


class ClientCreateIn(Input):
    name: Annotated[NameField, Field(examples=["billing-service"])]
    scopes: PermissionList = []


class ClientCreatedOut(BaseModel):
    """The only time the secret is shown."""

    client_id: str
    client_secret: str
    name: str
    scopes: list[str]
    created_at: datetime


class ClientOut(BaseModel):
    client_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, client: ServiceClient) -> "ClientOut":
        return cls(
            client_id=client.client_id,
            name=client.name,
            scopes=sorted(s.value for s in client.scopes),
            created_at=client.created_at,
            revoked_at=client.revoked_at,
        )


class ClientListOut(BaseModel):
    items: list[ClientOut]
