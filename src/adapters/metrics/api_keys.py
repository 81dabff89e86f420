"""Requests made with an API key, by outcome (a refusal: unknown, revoked, expired)."""

from prometheus_client import Counter

API_KEY_USES = Counter(
    "hexahub_api_key_uses",
    "Requests authenticated with an API key, by outcome (accepted, refused).",
    ["outcome"],
)


def count_api_key_use(*, accepted: bool) -> None:
    API_KEY_USES.labels("accepted" if accepted else "refused").inc()
