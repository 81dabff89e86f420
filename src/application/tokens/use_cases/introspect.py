from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.access.permissions import permissions_for
from application.common.security import Principal
from application.errors import CacheUnavailableError, InvalidTokenError
from application.ports.clock import Clock
from application.ports.revocation_store import RevocationStore
from application.ports.token_service import RefreshTokenGenerator, TokenVerifier
from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.tokens.clients import client_permissions
from domain.access.permissions import Permission

INACTIVE: dict[str, Any] = {"active": False}


@dataclass(frozen=True, slots=True, kw_only=True)
class IntrospectCommand:
    token: str = field(repr=False)
    token_type_hint: str | None = None


@dataclass(frozen=True, slots=True)
class IntrospectToken:
    """RFC 7662 token introspection, for callers holding `tokens:introspect`.

    - `{"active": false}` for anything not usable right now: malformed, forged,
      expired, revoked (a logged-out session, a rotated refresh token), a deactivated
      or deleted user, a revoked client — the state a JWT alone cannot show. Nothing
      else is said about inactive tokens (§2.2).
    - Revocation is read from the shared store, then the session row. A store that
      cannot answer (Redis down) is skipped: the row, written before any revocation is
      announced, still tells a revoked session, so nothing revoked reads as active.
    - Active access tokens answer their standard claims and `scope` (what the token
      may do now); active refresh tokens answer `token_type: refresh_token`, `sub`, `exp`.
    """

    uow_factory: UnitOfWorkFactory
    verifier: TokenVerifier
    refresh_tokens: RefreshTokenGenerator
    revocations: RevocationStore
    clock: Clock

    async def execute(self, principal: Principal, command: IntrospectCommand) -> dict[str, Any]:
        principal.require(Permission.TOKENS_INTROSPECT)
        if command.token_type_hint == "refresh_token":  # noqa: S105 - RFC 7009 hint
            found = await self._refresh(command.token) or await self._access(command.token)
        else:
            found = await self._access(command.token) or await self._refresh(command.token)
        return found or dict(INACTIVE)

    async def _access(self, token: str) -> dict[str, Any]:
        try:
            claims = self.verifier.verify_access_token(token)
        except InvalidTokenError:
            return {}
        now = self.clock.now()
        async with self.uow_factory() as uow:
            if claims.client_id is not None and claims.subject is None:
                client = await uow.clients.get(claims.client_id)
                if client is None or not client.is_active:
                    return {}
                allowed = {p.value for p in await client_permissions(uow, client)}
                scope = " ".join(sorted(set((claims.scope or "").split()) & allowed))
                username = None
            else:
                if claims.session_id is None or claims.subject is None:
                    return {}
                if await self._announced_revoked(claims.session_id):
                    return {}
                user = await uow.users.get(claims.subject)
                session = await uow.sessions.get(claims.session_id)
                if (
                    user is None
                    or not user.is_active
                    or session is None
                    or not session.is_active(now)
                ):
                    return {}
                scope = " ".join(
                    sorted(p.value for p in await permissions_for(uow.roles, user.roles))
                )
                username = user.username.value
        answer: dict[str, Any] = {
            "active": True,
            "token_type": "Bearer",
            "scope": scope,
            "client_id": claims.client_id,
            "username": username,
            "sub": str(claims.subject) if claims.subject else claims.client_id,
            "aud": claims.audience,
            "iss": claims.issuer,
            "exp": int(claims.expires_at.timestamp()),
            "iat": int(claims.issued_at.timestamp()),
            "nbf": int(claims.issued_at.timestamp()),
            "jti": claims.token_id,
            "sid": str(claims.session_id) if claims.session_id else None,
        }
        return {k: v for k, v in answer.items() if v is not None}

    async def _announced_revoked(self, session_id: UUID) -> bool:
        try:
            return await self.revocations.is_session_revoked(session_id)
        except CacheUnavailableError:
            return False

    async def _refresh(self, token: str) -> dict[str, Any]:
        now = self.clock.now()
        async with self.uow_factory() as uow:
            record = await uow.sessions.get_refresh_token(self.refresh_tokens.digest(token))
            if record is None or record.rotated_at is not None or record.expires_at <= now:
                return {}
            session = await uow.sessions.get(record.session_id)
            user = await uow.users.get(session.user_id) if session else None
        if session is None or not session.is_active(now) or user is None or not user.is_active:
            return {}
        return {
            "active": True,
            "token_type": "refresh_token",
            "sub": str(user.id),
            "username": user.username.value,
            "exp": int(record.expires_at.timestamp()),
            "iat": int(record.created_at.timestamp()),
            "sid": str(session.id),
        }
