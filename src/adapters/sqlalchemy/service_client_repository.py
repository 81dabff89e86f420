from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import ServiceClientRow
from application.errors import ServiceClientNotFoundError
from application.ports.service_client_repository import ServiceClientRepository
from domain.access.permissions import Permission
from domain.tokens.service_clients import ServiceClient


class SqlAlchemyServiceClientRepository(ServiceClientRepository):
    """Service clients in the `service_clients` table (secret digest only), inside the
    caller's session. Never commits; writes flush in a savepoint at the call, so a taken
    `client_id` raises `ConflictError` at `add` and leaves the transaction usable.
    `update` of an unknown client raises `ServiceClientNotFoundError`; id, creator and
    creation time never change. Reads return fresh entities mapped from rows.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def add(self, client: ServiceClient) -> None:
        # A Core INSERT, as for roles: an identity-map clash must reach the database.
        async with self._session.begin_nested():
            await self._session.execute(insert(ServiceClientRow).values(**_to_row(client)))

    @translated
    async def update(self, client: ServiceClient) -> None:
        row = await self._session.get(ServiceClientRow, client.client_id)
        if row is None:
            raise ServiceClientNotFoundError()
        async with self._session.begin_nested():
            _copy_onto(row, client)

    @translated
    async def get(self, client_id: str) -> ServiceClient | None:
        row = await self._session.get(ServiceClientRow, client_id, populate_existing=True)
        return None if row is None else _to_entity(row)

    @translated
    async def list(self) -> list[ServiceClient]:
        query = select(ServiceClientRow).order_by(
            ServiceClientRow.created_at.desc(), ServiceClientRow.client_id.desc()
        )
        rows = await self._session.scalars(query.execution_options(populate_existing=True))
        return [_to_entity(row) for row in rows]


def _to_entity(row: ServiceClientRow) -> ServiceClient:
    # A scope the code no longer knows grants nothing (least privilege), never an error.
    known = {p.value for p in Permission}
    return ServiceClient(
        client_id=row.client_id,
        name=row.name,
        secret_hash=row.secret_hash,
        scopes=frozenset(Permission(s) for s in row.scopes if s in known),
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        redirect_uris=tuple(row.redirect_uris),
        grant_types=frozenset(row.grant_types),
        token_endpoint_auth_method=row.token_endpoint_auth_method,
        first_party=row.first_party,
    )


def _to_row(client: ServiceClient) -> dict[str, object]:
    return {
        "client_id": client.client_id,
        "created_by": client.created_by,
        "created_at": client.created_at,
        **_changeable(client),
    }


def _copy_onto(row: ServiceClientRow, client: ServiceClient) -> None:
    for name, value in _changeable(client).items():
        setattr(row, name, value)


def _changeable(client: ServiceClient) -> dict[str, object]:
    return {
        "name": client.name,
        "secret_hash": client.secret_hash,
        "scopes": sorted(str(s) for s in client.scopes),
        "revoked_at": client.revoked_at,
        "redirect_uris": list(client.redirect_uris),
        "grant_types": sorted(client.grant_types),
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "first_party": client.first_party,
    }
