import secrets
from dataclasses import dataclass
from datetime import timedelta

from application.common.use_case import Transactional
from application.signin.requests import SignedIn, ValidRequest, code_digest
from domain.signin.authorization import AuthorizationCode, Consent


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentNeeded:
    """A third-party client asks for scopes this person has not yet allowed it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeIssued:
    code: str


@dataclass(frozen=True, slots=True)
class IssueAuthorizationCode(Transactional):
    """Issue a code for a valid request and a signed-in person.

    - First-party clients never ask for consent. A third-party client needs a consent
      covering the requested scopes: asked once per scope set, `approve=True` records
      it (audited, `consent.granted`), and it stays until the person revokes it.
    - The code carries 256 random bits, is stored as a digest, lives `ttl`, and is bound
      to the client, the redirect URI, the PKCE challenge, the nonce and the scopes.
    """

    ttl: timedelta

    async def execute(
        self, request: ValidRequest, signed_in: SignedIn, *, approve: bool = False
    ) -> CodeIssued | ConsentNeeded:
        now = self.clock.now()
        user_id = signed_in.user.id
        code = secrets.token_urlsafe(32)
        async with self.uow_factory() as uow:
            if request.needs_consent:
                consent = await uow.consents.get(user_id, request.client.client_id)
                wanted = frozenset(request.scopes)
                if consent is None or not consent.covers(wanted):
                    if not approve:
                        return ConsentNeeded()
                    granted = wanted | (consent.scopes if consent else frozenset())
                    consent = Consent.grant(
                        user_id=user_id,
                        client_id=request.client.client_id,
                        scopes=granted,
                        now=now,
                    )
                    await uow.consents.put(consent)
            await uow.authorization_codes.add(
                AuthorizationCode(
                    code_hash=code_digest(code),
                    client_id=request.client.client_id,
                    user_id=user_id,
                    redirect_uri=request.redirect_uri,
                    scopes=request.scopes,
                    nonce=request.nonce,
                    code_challenge=request.code_challenge,
                    auth_time=signed_in.auth_time,
                    created_at=now,
                    expires_at=now + self.ttl,
                )
            )
            await uow.commit(actor_id=user_id)
        return CodeIssued(code=code)
