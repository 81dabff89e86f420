from abc import abstractmethod
from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """The current time, always timezone-aware UTC. A port so expiry tests are exact."""

    @abstractmethod
    def now(self) -> datetime: ...
