"""Service clients: machines that get access tokens by the client-credentials grant."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.access.permissions import Permission
from domain.common.aggregate import Aggregate
from domain.tokens.events import ServiceClientCreated, ServiceClientRevoked


@dataclass(eq=False, kw_only=True)
class ServiceClient(Aggregate):
    """Stored with a digest of its secret, never the secret. Compares by `client_id`."""

    client_id: str
    name: str
    secret_hash: str
    scopes: frozenset[Permission]
    created_by: UUID | None
    created_at: datetime
    revoked_at: datetime | None = None
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServiceClient) and other.client_id == self.client_id

    def __hash__(self) -> int:
        return hash(self.client_id)

    @classmethod
    def register(
        cls,
        *,
        client_id: str,
        name: str,
        secret_hash: str,
        scopes: frozenset[Permission],
        created_by: UUID | None,
        now: datetime,
    ) -> "ServiceClient":
        client = cls(
            client_id=client_id,
            name=name,
            secret_hash=secret_hash,
            scopes=scopes,
            created_by=created_by,
            created_at=now,
        )
        client.record(ServiceClientCreated(occurred_at=now, client_id=client_id))
        return client

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self, *, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        self.revoked_at = now
        self.record(ServiceClientRevoked(occurred_at=now, client_id=self.client_id))
        return True
