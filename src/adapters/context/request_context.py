"""The request context, carried in a contextvar set by the HTTP edge for each request.

A contextvar follows each asyncio task, so concurrent requests never see each other's
facts; outside a request it reads as empty.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from application.ports.request_context import RequestContext, RequestMeta

_EMPTY = RequestMeta()
_current: ContextVar[RequestMeta | None] = ContextVar("hexahub_request", default=None)


class ContextVarRequestContext(RequestContext):
    def current(self) -> RequestMeta:
        return _current.get() or _EMPTY


@contextmanager
def bound_request(meta: RequestMeta) -> Iterator[None]:
    """Make `meta` the current request's facts for the duration of the block."""
    token = _current.set(meta)
    try:
        yield
    finally:
        _current.reset(token)
