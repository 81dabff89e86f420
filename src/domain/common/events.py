"""Domain events: past-tense facts that aggregates record and the unit of work collects
at commit, writes to the outbox with their audit rows, and hands on.

Events carry ids, never secrets: no password, hash or token ever goes in one.
"""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    occurred_at: datetime

    @property
    def name(self) -> str:
        return type(self).__name__
