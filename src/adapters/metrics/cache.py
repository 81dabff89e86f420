"""Cache lookups by cache (the key's namespace: `user`, `roles`), tier and result."""

from typing import Any

from prometheus_client import Counter

LOOKUPS = Counter(
    "hexahub_cache_requests",
    "Cache lookups by cache, tier (local, redis) and result (hit, miss).",
    ["cache", "tier", "result"],
)


_children: dict[tuple[str, str, bool], Any] = {}


def count_lookup(cache: str, tier: str, hit: bool) -> None:
    # Every authenticated request counts a few lookups: `labels()` resolved once per
    # combination (a handful of namespaces), not per call.
    child = _children.get((cache, tier, hit))
    if child is None:
        child = _children[(cache, tier, hit)] = LOOKUPS.labels(
            cache, tier, "hit" if hit else "miss"
        )
    child.inc()
