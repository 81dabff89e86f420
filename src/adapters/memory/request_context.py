from application.ports.request_context import RequestContext, RequestMeta


class FixedRequestContext(RequestContext):
    """Tests: the same request facts everywhere, settable."""

    def __init__(self, meta: RequestMeta | None = None) -> None:
        self.meta = meta or RequestMeta()

    def current(self) -> RequestMeta:
        return self.meta
