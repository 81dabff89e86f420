from application.common.security import Principal
from domain.identity.user import User


class GetOwnProfile:
    """The caller's own account, as loaded (fresh) for this request."""

    async def execute(self, principal: Principal) -> User:
        return principal.account
