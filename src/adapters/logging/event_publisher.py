import dataclasses
import logging
import re
from collections.abc import Sequence
from typing import Any

import structlog

from application.ports.event_publisher import EventPublisher
from domain.common.events import DomainEvent

log = structlog.get_logger()
_fallback = logging.getLogger(__name__)

# Besides ids, only these fields are logged: they name things (a revocation reason, the
# profile fields that changed), never values. An allowlist, not a denylist, so a field
# added to an event later stays out of the logs until someone decides it is safe.
_SAFE_FIELDS = frozenset({"reason", "fields"})

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class StructlogEventPublisher(EventPublisher):
    """One structured log line per domain event: `user_registered user_id=...`.

    The events are already durable when this runs (see the port), so it never raises:
    a failure to log one event is reported on the stdlib logger and the rest still go.
    """

    def __init__(self, logger: structlog.typing.FilteringBoundLogger | None = None) -> None:
        self._log = logger if logger is not None else log

    async def publish(self, events: Sequence[DomainEvent]) -> None:
        for event in events:
            try:
                self._log.info(event_name(event), **_loggable_fields(event))
            except Exception as error:
                # Publishing must not fail the use case. Report through the stdlib logger,
                # which does not run structlog's processors (the likely culprit); no
                # traceback, since a locals-rendering formatter could print the event.
                _fallback.warning("event_publish_failed: %s (%s)", event.name, type(error).__name__)


def event_name(event: DomainEvent) -> str:
    """`UserLoggedIn` -> `user_logged_in`."""
    return _CAMEL_BOUNDARY.sub("_", event.name).lower()


def _loggable_fields(event: DomainEvent) -> dict[str, Any]:
    fields: dict[str, Any] = {"occurred_at": event.occurred_at.isoformat()}
    for field in dataclasses.fields(event):
        if field.name.endswith("_id") or field.name in _SAFE_FIELDS:
            value = getattr(event, field.name)
            fields[field.name] = None if value is None else _plain(value)
    return fields


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    return str(value)
