"""Cache lookups by cache (the key's namespace: `user`, `roles`), tier and result."""

from prometheus_client import Counter

LOOKUPS = Counter(
    "hexahub_cache_requests",
    "Cache lookups by cache, tier (local, redis) and result (hit, miss).",
    ["cache", "tier", "result"],
)


def count_lookup(cache: str, tier: str, hit: bool) -> None:
    LOOKUPS.labels(cache, tier, "hit" if hit else "miss").inc()
