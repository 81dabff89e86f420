from datetime import UTC, datetime, timedelta

from application.ports.clock import Clock


class FixedClock(Clock):
    """A clock that only moves when told to, so expiry tests are exact."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = _checked(now or datetime(2025, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = _checked(now)

    def advance(self, delta: timedelta | None = None, /, *, seconds: float = 0) -> datetime:
        """Move forward by `delta` and/or `seconds`; returns the new time."""
        self._now += (delta or timedelta()) + timedelta(seconds=seconds)
        return self._now


def _checked(now: datetime) -> datetime:
    # The port promises aware UTC; a naive datetime here would hide bugs in callers.
    if now.tzinfo is None or now.utcoffset() != timedelta(0):
        raise ValueError("FixedClock needs a timezone-aware UTC datetime")
    return now.astimezone(UTC)
