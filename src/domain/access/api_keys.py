"""API keys: long-lived credentials that act as their owner, limited to their scopes."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.access.events import ApiKeyCreated, ApiKeyFirstUsed, ApiKeyRevoked
from domain.access.permissions import Permission
from domain.common.aggregate import Aggregate


@dataclass(eq=False, kw_only=True)
class ApiKey(Aggregate):
    """Stored without its secret: `prefix` finds it, `secret_hash` proves it."""

    id: UUID
    owner_id: UUID
    name: str
    prefix: str
    secret_hash: str
    scopes: frozenset[Permission]
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ApiKey) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @classmethod
    def issue(
        cls,
        *,
        id: UUID,
        owner_id: UUID,
        name: str,
        prefix: str,
        secret_hash: str,
        scopes: frozenset[Permission],
        now: datetime,
        expires_at: datetime | None,
    ) -> "ApiKey":
        key = cls(
            id=id,
            owner_id=owner_id,
            name=name,
            prefix=prefix,
            secret_hash=secret_hash,
            scopes=scopes,
            created_at=now,
            expires_at=expires_at,
        )
        key.record(ApiKeyCreated(occurred_at=now, key_id=id, owner_id=owner_id))
        return key

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    def use_is_due(self, now: datetime) -> bool:
        """Whether a use at `now` should be written: the first, then at most once a minute
        (a busy key must not turn every request into a write)."""
        return self.last_used_at is None or (now - self.last_used_at).total_seconds() >= 60

    def used(self, *, now: datetime) -> bool:
        """Note a use; True when the stored `last_used_at` should be written."""
        first = self.last_used_at is None
        if not self.use_is_due(now):
            return False
        self.last_used_at = now
        if first:
            self.record(ApiKeyFirstUsed(occurred_at=now, key_id=self.id, owner_id=self.owner_id))
        return True

    def revoke(self, *, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        self.revoked_at = now
        self.record(
            ApiKeyRevoked(
                occurred_at=now, key_id=self.id, owner_id=self.owner_id, prefix=self.prefix
            )
        )
        return True
