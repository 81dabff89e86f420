"""Assertions over recorded traffic, each failing with the answers that broke the rule."""

from collections.abc import Iterable

from tests.faults.traffic import Outcome


def _listing(outcomes: Iterable[Outcome], limit: int = 15) -> str:
    return "\n".join(o.describe() for o in list(outcomes)[:limit])


def assert_never_broken(outcomes: list[Outcome], server_log: str) -> None:
    """No 5xx but 503, and HexaHub always answered: no reset, no refusal, no time-out."""
    broken = [o for o in outcomes if o.status is None or (o.status >= 500 and o.status != 503)]
    assert not broken, f"broken answers:\n{_listing(broken)}\n--- server log ---\n{server_log}"


def assert_503s_say_when_to_retry(outcomes: list[Outcome]) -> None:
    """RFC 9110 §15.6.4: a 503 tells the client when to come back; API errors use the
    envelope's `service_unavailable` code, readiness its own `checks` shape."""
    bad = [
        o
        for o in outcomes
        if o.status == 503
        and (
            not (o.retry_after or "").isdigit()
            or (o.op != "ready" and o.error != "service_unavailable")
        )
    ]
    assert not bad, f"503s without Retry-After or service_unavailable:\n{_listing(bad)}"


def assert_only(outcomes: list[Outcome], allowed: dict[str, set[int]], when: str) -> None:
    """Every answer is one the policy table allows at that time."""
    wrong = [o for o in outcomes if o.status not in allowed[o.op]]
    assert not wrong, f"{when}, answers outside the policy:\n{_listing(wrong)}"


def assert_all_normal(outcomes: list[Outcome], when: str) -> None:
    assert outcomes, f"no traffic recorded {when}"
    wrong = [o for o in outcomes if not o.normal]
    assert not wrong, f"{when}, answers that should have succeeded:\n{_listing(wrong)}"


def fully_served(outcomes: list[Outcome], ops: Iterable[str]) -> bool:
    """Every op in `ops` has been answered and its latest answer is the normal one."""
    latest: dict[str, Outcome] = {}
    for outcome in outcomes:
        latest[outcome.op] = outcome
    return all(op in latest and latest[op].normal for op in ops)
