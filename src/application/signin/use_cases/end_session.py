from dataclasses import dataclass, field

from application.common.use_case import Transactional
from application.errors import InvalidTokenError
from application.ports.id_tokens import IdTokenHint, IdTokenService
from application.ports.unit_of_work import UnitOfWork
from application.signin.requests import SignedIn
from domain.common.errors import InvalidValueError


@dataclass(frozen=True, slots=True, kw_only=True)
class EndSessionCommand:
    id_token_hint: str | None = field(repr=False)
    post_logout_redirect_uri: str | None
    client_id: str | None
    signed_in: SignedIn | None
    confirmed: bool
    """The person pressed "Sign out" on our page (a CSRF-checked form)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedOut:
    redirect_uri: str | None
    """Where to send the browser: a URI registered for the client, else None (our page)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmSignOut:
    """Nothing proves the request comes from the person's own application: ask first."""


@dataclass(frozen=True, slots=True)
class EndSession(Transactional):
    """RP-Initiated Logout 1.0.

    - `id_token_hint`, when given, must be an id_token we issued (expired is fine); an
      invalid one is refused (`invalid_request`). Its session (`sid`) is revoked, and
      so is the browser's sign-in session.
    - `post_logout_redirect_uri` must be exactly one of the client's registered redirect
      URIs, the client named by the hint's audience or `client_id` (they must agree);
      anything else is refused, never followed (no open redirect).
    - Without a valid hint, nothing is ended until the person confirms on our page.
    """

    id_tokens: IdTokenService

    async def execute(self, command: EndSessionCommand) -> SignedOut | ConfirmSignOut:
        hint = self._hint(command.id_token_hint)
        client_id = command.client_id
        if hint is not None:
            if client_id is not None and client_id != hint.audience:
                raise InvalidValueError("client_id does not match the id_token_hint")
            client_id = hint.audience
        async with self.uow_factory() as uow:
            redirect = await self._redirect(uow, client_id, command.post_logout_redirect_uri)
            if hint is None and not command.confirmed:
                return ConfirmSignOut()
            now = self.clock.now()
            ended = set()
            if hint is not None and hint.session_id is not None:
                ended.add((hint.subject, hint.session_id))
            if command.signed_in is not None:
                ended.add((command.signed_in.user.id, command.signed_in.session_id))
            actor = None
            for user_id, session_id in ended:
                session = await uow.sessions.get(session_id)
                if session is not None and session.user_id == user_id:
                    actor = user_id
                    if session.revoke(now=now, reason="logout"):
                        await uow.sessions.update(session)
            await uow.commit(actor_id=actor)
        return SignedOut(redirect_uri=redirect)

    def _hint(self, token: str | None) -> IdTokenHint | None:
        if not token:
            return None
        try:
            return self.id_tokens.read_hint(token)
        except InvalidTokenError:
            raise InvalidValueError("id_token_hint is not a valid id_token of ours") from None

    @staticmethod
    async def _redirect(uow: UnitOfWork, client_id: str | None, uri: str | None) -> str | None:
        if uri is None:
            return None
        client = await uow.clients.get(client_id) if client_id else None
        if client is None or not client.is_active or uri not in client.redirect_uris:
            raise InvalidValueError("post_logout_redirect_uri is not registered for this client")
        return uri
