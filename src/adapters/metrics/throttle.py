"""Rate-limit refusals for Prometheus, told by `application.identity.throttle.Throttle` at the
moment it decides (the general per-client budget and every per-route limit alike).

`limit` is the name of the policy's budget, one of a fixed set, never the key, address
or account that ran out. Every name is declared at import, so a dashboard sees a zero
rather than a missing series before the first refusal.
"""

from prometheus_client import Counter

from application.ports.rejection_listener import LIMIT_NAMES, LimitName

REJECTIONS = Counter(
    "hexahub_rate_limit_rejections",
    "Requests refused with 429 by a rate limit.",
    ["limit"],
)
_BY_LIMIT = {name: REJECTIONS.labels(limit=name) for name in LIMIT_NAMES}


def count_rejection(limit: LimitName) -> None:
    """A `RejectionListener`."""
    _BY_LIMIT[limit].inc()
