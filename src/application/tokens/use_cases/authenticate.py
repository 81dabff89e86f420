from dataclasses import dataclass
from uuid import UUID

from application.caching.user_cache import UserCache
from application.common.security import Principal
from application.errors import CacheUnavailableError, InvalidTokenError
from application.ports.clock import Clock
from application.ports.revocation_store import RevocationStore
from application.ports.token_service import AccessTokenClaims, TokenVerifier
from application.ports.unit_of_work_factory import TransactionFactory
from application.tokens.clients import client_permissions


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthenticateCommand:
    access_token: str


@dataclass(frozen=True, slots=True)
class Authenticate:
    """Turn a bearer access token into the calling principal, on every request.

    - The signature, algorithm, issuer, audience and expiry must hold.
    - The session must not be revoked: the shared revocation store answers first (a
      logout on any instance counts at once), then the session row, the source of truth.
      When the store cannot answer (Redis down) it is skipped, not trusted and not
      fatal: every revocation is written to the session row before it is announced, so
      the row check alone still refuses a revoked session.
    - The user must still exist and be active, so deactivation, deletion and password
      changes (which revoke sessions) act on the very next request.
    - Permissions come from the user's roles as stored now, so a role change or a
      demotion acts on the next request too, not at token expiry.
    - The session's state, the user and the role grants come through `UserCache`,
      which every write (a logout, a revocation, a refresh, a deactivation, a role
      change) invalidates after commit on every instance: a warm cache answers without
      a database round trip, and a cold one, or Redis down, reads the database.
    - A service client's token (client credentials) carries no user: it may do what its
      scope grants, limited to what the client may do now; a revoked client is refused.
    - Any other doubt fails closed: a database that cannot answer is an error, never a
      pass.
    """

    reads: TransactionFactory
    verifier: TokenVerifier
    revocations: RevocationStore
    clock: Clock
    users: UserCache

    async def execute(self, command: AuthenticateCommand) -> Principal:
        claims = self.verifier.verify_access_token(command.access_token)
        if claims.subject is None:
            return await self._client(claims)
        if claims.session_id is None or await self._announced_revoked(claims.session_id):
            raise InvalidTokenError()
        session = await self.users.session(claims.session_id)
        if (
            session is None
            or session.user_id != claims.subject
            or not session.is_active(self.clock.now())
        ):
            raise InvalidTokenError()
        roles = await self.users.roles()
        user = await self.users.user(claims.subject, roles)
        if user is None or not user.is_active:
            raise InvalidTokenError()
        permissions = roles.permissions(user.roles)
        return Principal(user=user, permissions=permissions, session_id=claims.session_id)

    async def _announced_revoked(self, session_id: UUID) -> bool:
        """The store's answer; False when it cannot give one, since the session row,
        checked next either way, is the source of truth."""
        try:
            return await self.revocations.is_session_revoked(session_id)
        except CacheUnavailableError:
            return False

    async def _client(self, claims: AccessTokenClaims) -> Principal:
        """A client-credentials token: no user, the client's scopes as granted in the
        token, limited to what the client may do now (revoked client: refused)."""
        if claims.client_id is None:
            raise InvalidTokenError()
        async with self.reads() as uow:
            client = await uow.clients.get(claims.client_id)
            if client is None or not client.is_active:
                raise InvalidTokenError()
            allowed = await client_permissions(uow, client)
        granted = frozenset(p for p in allowed if p.value in (claims.scope or "").split())
        return Principal(user=None, permissions=granted, client_id=client.client_id)
