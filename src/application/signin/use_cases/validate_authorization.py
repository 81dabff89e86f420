from dataclasses import dataclass

from application.ports.unit_of_work_factory import UnitOfWorkFactory
from application.signin.requests import (
    AUTHORIZATION_CODE,
    SUPPORTED_SCOPES,
    AuthorizationRequest,
    ErrorRedirect,
    Rejected,
    ValidRequest,
)
from domain.signin.authorization import is_s256_challenge


@dataclass(frozen=True, slots=True)
class ValidateAuthorization:
    """Check an authorization request (RFC 6749 §4.1.1, RFC 7636, OIDC Core §3.1.2).

    - An unknown or revoked client, a client not registered for the authorization code
      grant, or a `redirect_uri` missing or not exactly one of the client's registered
      URIs: `Rejected` (an error page, never a redirect: RFC 6749 §4.1.2.1, Security
      BCP §4.1.3).
    - Otherwise errors go back to the redirect URI with `state`: `response_type` other
      than `code` is `unsupported_response_type`; a missing `code_challenge`, or a
      method other than `S256` (`plain` included) is `invalid_request` (PKCE is required
      for every client, Security BCP §2.1.1); an unknown scope is `invalid_scope`.
    """

    uow_factory: UnitOfWorkFactory

    async def execute(
        self, request: AuthorizationRequest
    ) -> ValidRequest | Rejected | ErrorRedirect:
        if not request.client_id:
            return Rejected(error="invalid_request", description="client_id is required")
        async with self.uow_factory() as uow:
            client = await uow.clients.get(request.client_id)
        if client is None or not client.allows(AUTHORIZATION_CODE):
            return Rejected(error="invalid_client", description="unknown client")
        if not request.redirect_uri or request.redirect_uri not in client.redirect_uris:
            return Rejected(
                error="invalid_request",
                description="redirect_uri is not registered for this client",
            )

        def back(error: str, description: str) -> ErrorRedirect:
            return ErrorRedirect(
                redirect_uri=request.redirect_uri or "",
                error=error,
                description=description,
                state=request.state,
            )

        if request.response_type != "code":
            return back("unsupported_response_type", "only response_type=code is supported")
        if not request.code_challenge:
            return back("invalid_request", "code_challenge (PKCE, S256) is required")
        if request.code_challenge_method != "S256":
            return back("invalid_request", "code_challenge_method must be S256")
        if not is_s256_challenge(request.code_challenge):
            return back("invalid_request", "code_challenge is not an S256 challenge")
        scopes = tuple(dict.fromkeys((request.scope or "").split()))
        unknown = [s for s in scopes if s not in SUPPORTED_SCOPES]
        if unknown:
            return back("invalid_scope", f"unsupported scope: {' '.join(unknown)}")
        if request.nonce is not None and len(request.nonce) > 512:
            return back("invalid_request", "nonce is too long")
        return ValidRequest(
            client=client,
            redirect_uri=request.redirect_uri,
            scopes=scopes,
            state=request.state,
            nonce=request.nonce,
            code_challenge=request.code_challenge,
        )
