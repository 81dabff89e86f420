"""The audit trail: an append-only record of security-relevant actions."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

AuditDetail = str | int | bool | None


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """Who did what to what, from where, and how it ended. Never a secret in `details`."""

    id: UUID
    action: str
    actor_id: UUID | None
    target_id: str | None
    outcome: Outcome
    ip: str | None
    user_agent: str | None
    request_id: str | None
    occurred_at: datetime
    details: dict[str, AuditDetail] = field(default_factory=dict)
