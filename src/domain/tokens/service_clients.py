"""Clients: machines that get access tokens by the client-credentials grant, and
applications that sign people in by the authorization code flow (OpenID Connect)."""

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
    redirect_uris: tuple[str, ...] = ()
    """Compared exactly (OAuth 2.0 Security BCP §4.1.3): no prefix, no wildcard."""
    grant_types: frozenset[str] = frozenset({"client_credentials"})
    token_endpoint_auth_method: str = "client_secret_basic"  # noqa: S105 - a method name
    """`none` for a public client (no secret; PKCE is its proof), `client_secret_basic`
    or `client_secret_post` for a confidential one."""
    first_party: bool = False
    """The operator's own application: nobody is asked for consent."""
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
        redirect_uris: tuple[str, ...] = (),
        grant_types: frozenset[str] = frozenset({"client_credentials"}),
        token_endpoint_auth_method: str = "client_secret_basic",  # noqa: S107
        first_party: bool = False,
    ) -> "ServiceClient":
        client = cls(
            client_id=client_id,
            name=name,
            secret_hash=secret_hash,
            scopes=scopes,
            created_by=created_by,
            created_at=now,
            redirect_uris=redirect_uris,
            grant_types=grant_types,
            token_endpoint_auth_method=token_endpoint_auth_method,
            first_party=first_party,
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

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"  # noqa: S105 - a method name

    def allows(self, grant_type: str) -> bool:
        return self.is_active and grant_type in self.grant_types
