from dataclasses import dataclass

from application.access import permissions_for
from application.errors import InvalidTokenError
from application.ports.clock import Clock
from application.ports.revocation_store import RevocationStore
from application.ports.token_service import AccessTokenClaims, TokenVerifier
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.security import Principal
from application.use_cases.clients.manage_clients import client_permissions


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticateCommand:
    access_token: str


class Authenticate:
    """Turn a bearer access token into the calling principal, on every request.

    - The signature, algorithm, issuer, audience and expiry must hold.
    - The session must not be revoked: the shared revocation store answers first (a
      logout on any instance counts at once), then the session row, the source of truth.
    - The user must still exist and be active, so deactivation, deletion and password
      changes (which revoke sessions) act on the very next request.
    - Permissions come from the user's roles as stored now, so a role change or a
      demotion acts on the next request too, not at token expiry.
    - A service client's token (client credentials) carries no user: it may do what its
      scope grants, limited to what the client may do now; a revoked client is refused.
    - Any doubt fails closed: a store or database that cannot answer is an error, never
      a pass.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        verifier: TokenVerifier,
        revocations: RevocationStore,
        clock: Clock,
    ) -> None:
        self._uow_factory = uow_factory
        self._verifier = verifier
        self._revocations = revocations
        self._clock = clock

    async def execute(self, command: AuthenticateCommand) -> Principal:
        claims = self._verifier.verify_access_token(command.access_token)
        if claims.subject is None:
            return await self._client(claims)
        if claims.session_id is None or await self._revocations.is_session_revoked(
            claims.session_id
        ):
            raise InvalidTokenError()
        async with self._uow_factory() as uow:
            user = await uow.users.get(claims.subject)
            session = await uow.sessions.get(claims.session_id)
            if (
                user is None
                or not user.is_active
                or session is None
                or session.user_id != user.id
                or not session.is_active(self._clock.now())
            ):
                raise InvalidTokenError()
            permissions = await permissions_for(uow.roles, user.roles)
        return Principal(user=user, permissions=permissions, session_id=session.id)

    async def _client(self, claims: AccessTokenClaims) -> Principal:
        """A client-credentials token: no user, the client's scopes as granted in the
        token, limited to what the client may do now (revoked client: refused)."""
        if claims.client_id is None:
            raise InvalidTokenError()
        async with self._uow_factory() as uow:
            client = await uow.clients.get(claims.client_id)
            if client is None or not client.is_active:
                raise InvalidTokenError()
            allowed = await client_permissions(uow, client)
        granted = frozenset(p for p in allowed if p.value in (claims.scope or "").split())
        return Principal(user=None, permissions=granted, client_id=client.client_id)
