from abc import abstractmethod
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestMeta:
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


class RequestContext(Protocol):
    """Facts about the request being served, for the audit trail and sessions; empty
    outside a request (the command line, background work)."""

    @abstractmethod
    def current(self) -> RequestMeta: ...
