"""Domain events: past-tense facts that aggregates record and the unit of work collects
at commit, writes to the outbox with their audit rows, and hands on.

Events carry ids, never secrets: no password, hash or token ever goes in one.
"""

from dataclasses import dataclass
from uuid import UUID

from domain.common.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleCreated(DomainEvent):
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleUpdated(DomainEvent):
    role: str
    previous_name: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleDeleted(DomainEvent):
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyCreated(DomainEvent):
    key_id: UUID
    owner_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyRevoked(DomainEvent):
    key_id: UUID
    owner_id: UUID
    prefix: str = ""  # what finds the key, so caches can drop it ("": recorded before)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyFirstUsed(DomainEvent):
    key_id: UUID
    owner_id: UUID
