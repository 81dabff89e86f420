from dataclasses import dataclass, field

from application.errors import InvalidScopeError, UnauthorizedClientError
from application.ports.token_service import IssuedAccessToken, TokenIssuer
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.tokens.clients import authenticate_client, client_permissions
from domain.access.permissions import Permission


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientCredentialsCommand:
    client_id: str
    client_secret: str = field(repr=False)
    scope: str | None = None
    """Space-separated (RFC 6749 §3.3); None asks for everything the client may do."""


@dataclass(frozen=True, slots=True)
class IssueClientToken:
    """The client-credentials grant (RFC 6749 §4.4): a service client trades its id and
    secret for an access token, and no refresh token.

    - Unknown, revoked or wrong-secret clients: `invalid_client`.
    - The requested scope must lie within what the client may do now (`invalid_scope`);
      without one, the token carries all of it.
    """

    uow_factory: UnitOfWorkFactory
    issuer: TokenIssuer

    async def execute(self, command: ClientCredentialsCommand) -> IssuedAccessToken:
        async with self.uow_factory() as uow:
            client = await authenticate_client(uow, command.client_id, command.client_secret)
            if not client.allows("client_credentials"):
                raise UnauthorizedClientError()
            allowed = await client_permissions(uow, client)
        if command.scope is None:
            granted = allowed
        else:
            asked = set(command.scope.split())
            if not asked <= {p.value for p in allowed}:
                raise InvalidScopeError()
            granted = frozenset(Permission(s) for s in asked)
        scope = " ".join(sorted(p.value for p in granted))
        return self.issuer.issue_client_token(client.client_id, scope)
