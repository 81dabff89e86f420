from dataclasses import dataclass

from application.common.security import Principal
from application.signin.requests import SUPPORTED_SCOPES, userinfo_claims


@dataclass(frozen=True, slots=True)
class GetUserInfo:
    """OIDC Core §5.3: the signed-in person's claims, for a person's access token (not
    an API key's, not a service client's). A person's access token carries the
    person's own rights, whichever client holds it, so every supported scope's claims
    are returned: `sub`, `email`, `email_verified`, `preferred_username`, `name`,
    `updated_at`."""

    async def execute(self, principal: Principal) -> dict[str, object]:
        principal.require_session()
        return userinfo_claims(principal.account, SUPPORTED_SCOPES)
