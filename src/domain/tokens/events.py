"""Domain events: past-tense facts that aggregates record and the unit of work collects
at commit, writes to the outbox with their audit rows, and hands on.

Events carry ids, never secrets: no password, hash or token ever goes in one.
"""

from dataclasses import dataclass

from domain.common.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceClientCreated(DomainEvent):
    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceClientRevoked(DomainEvent):
    client_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SigningKeyRotated(DomainEvent):
    kid: str
    retired_kid: str | None
