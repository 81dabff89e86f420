"""Who may follow which topic of live events, and see which event.

Generic over the catalog's topics: a feature's events flow to live clients and webhooks
as soon as its topic is listed here with the permission that reads it (the releases
context's `releases` and `deployments` are listed ahead of it, as the contract fixes
them). A topic not listed (`system`) is never offered.
"""

from application.common.security import Principal
from application.ports.event_outbox import OutboxEvent

ACCOUNT = "account"
"""Only the caller's own account and sessions."""

READ_PERMISSION: dict[str, str] = {
    "users": "users:read",
    "releases": "releases:read",
    "deployments": "releases:read",
}
"""Topic -> the permission (by its string) that reads it."""

OFFERED = frozenset({ACCOUNT, *READ_PERMISSION})


def may_follow(principal: Principal, topic: str) -> bool:
    if topic == ACCOUNT:
        return principal.user is not None
    needed = READ_PERMISSION.get(topic)
    return needed is not None and needed in {p.value for p in principal.permissions}


def may_see(principal: Principal, event: OutboxEvent) -> bool:
    """Checked for every event with the principal as it stands now (a permission removed
    applies to the next event)."""
    if not may_follow(principal, event.topic):
        return False
    if event.topic == ACCOUNT:
        return principal.user is not None and event.account_id == principal.user.id
    return True
