import hmac
from dataclasses import dataclass, field

from application.common.use_case import Transactional
from application.errors import InvalidClientError, InvalidGrantError, UnauthorizedClientError
from application.identity.sessions import SessionOpener
from application.ports.id_tokens import IdTokenService
from application.ports.unit_of_work import UnitOfWork
from application.signin.requests import (
    AUTHORIZATION_CODE,
    OPENID,
    REFRESH_TOKEN,
    code_digest,
    userinfo_claims,
)
from application.tokens.clients import secret_digest
from domain.common.errors import InvalidValueError
from domain.signin.authorization import AuthorizationCode, s256_matches
from domain.signin.events import AuthorizationCodeReplayed
from domain.tokens.service_clients import ServiceClient


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeCodeCommand:
    code: str = field(repr=False)
    redirect_uri: str | None
    code_verifier: str | None = field(repr=False)
    client_id: str | None
    client_secret: str | None = field(repr=False)
    auth_method: str
    """How the client authenticated: `none`, `client_secret_basic` or `client_secret_post`."""
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeTokens:
    access_token: str
    expires_in: int
    refresh_token: str | None
    refresh_expires_in: int | None
    id_token: str | None
    scope: str


@dataclass(frozen=True, slots=True)
class ExchangeAuthorizationCode(Transactional):
    """The authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.5, OIDC Core §3.1.3).

    - The client authenticates the way it registered: a public client (`none`) sends
      only its `client_id`; a confidential one its secret by Basic or form, as
      registered. Otherwise `invalid_client`; a client not registered for this grant
      is `unauthorized_client`.
    - The code must be this client's, unexpired, unused, for this exact `redirect_uri`,
      and the `code_verifier` must match its S256 challenge: else `invalid_grant`.
    - A code works once. Presented again, the session its first use opened is revoked
      (RFC 6749 §4.1.2) and the attempt audited (`auth.code_replayed`).
    - The answer opens a new login session for the person (its refresh token rotates
      like any other), with an `id_token` when `openid` was asked for.
    """

    opener: SessionOpener
    id_tokens: IdTokenService

    async def execute(self, command: ExchangeCodeCommand) -> CodeTokens:
        if not command.code_verifier:
            raise InvalidValueError("code_verifier is required")
        async with self.uow_factory() as uow:
            client = await self._client(uow, command)
            code = await uow.authorization_codes.get(code_digest(command.code), for_update=True)
            if code is None or code.client_id != client.client_id:
                raise InvalidGrantError()
            if code.used_at is not None:
                await self._revoke_replayed(uow, code)
                raise InvalidGrantError("the authorization code was already used")
            if code.is_expired(self.clock.now()):
                raise InvalidGrantError("the authorization code has expired")
            if command.redirect_uri != code.redirect_uri:
                raise InvalidGrantError("redirect_uri does not match the authorization request")
            if not s256_matches(code.code_challenge, command.code_verifier):
                raise InvalidGrantError("code_verifier does not match the code challenge")
            user = await uow.users.get(code.user_id, for_update=True)
            if user is None or not user.is_active:
                raise InvalidGrantError()
            pair = await self.opener.open(uow, user, ip=command.ip, user_agent=command.user_agent)
            code.redeem(now=self.clock.now(), session_id=pair.session_id)
            await uow.authorization_codes.update(code)
            await uow.commit(actor_id=user.id)
        id_token = None
        if OPENID in code.scopes:
            claims = userinfo_claims(user, code.scopes)
            claims.pop("sub")
            id_token = self.id_tokens.issue_id_token(
                subject=user.id,
                audience=client.client_id,
                auth_time=code.auth_time,
                nonce=code.nonce,
                session_id=pair.session_id,
                claims=claims,
            )
        refreshable = REFRESH_TOKEN in client.grant_types
        return CodeTokens(
            access_token=pair.access_token,
            expires_in=pair.expires_in,
            refresh_token=pair.refresh_token if refreshable else None,
            refresh_expires_in=pair.refresh_expires_in if refreshable else None,
            id_token=id_token,
            scope=" ".join(code.scopes),
        )

    async def _client(self, uow: UnitOfWork, command: ExchangeCodeCommand) -> ServiceClient:
        client = await uow.clients.get(command.client_id) if command.client_id else None
        if client is None or not client.is_active:
            raise InvalidClientError()
        if command.auth_method != client.token_endpoint_auth_method:
            raise InvalidClientError(
                f"this client authenticates with {client.token_endpoint_auth_method}"
            )
        if not client.is_public and not hmac.compare_digest(
            secret_digest(command.client_secret or ""), client.secret_hash
        ):
            raise InvalidClientError()
        if AUTHORIZATION_CODE not in client.grant_types:
            raise UnauthorizedClientError()
        return client

    async def _revoke_replayed(self, uow: UnitOfWork, code: AuthorizationCode) -> None:
        now = self.clock.now()
        if code.issued_session_id is not None:
            session = await uow.sessions.get(code.issued_session_id)
            if session is not None and session.revoke(now=now, reason="code_replayed"):
                await uow.sessions.update(session)
        uow.record(
            AuthorizationCodeReplayed(
                occurred_at=now,
                user_id=code.user_id,
                client_id=code.client_id,
                session_id=code.issued_session_id,
            )
        )
        await uow.commit()
