"""Units of work as the service builds them, for tests that bring their own storage."""

from collections.abc import Sequence

from adapters.memory.request_context import FixedRequestContext
from adapters.system.id_generator import Uuid7IdGenerator
from application.access.events import ACCESS_EVENTS
from application.audit.describe import describe
from application.events.catalog import Catalog
from application.events.handlers import HandlerTable, Route
from application.events.unit_of_work import EventPipeline
from application.identity.events import IDENTITY_EVENTS
from application.ports.event_handler import EventHandler
from application.ports.request_context import RequestMeta
from application.ports.unit_of_work_factory import TransactionFactory, UnitOfWorkFactory
from application.releases.events import RELEASE_EVENTS
from application.tokens.events import TOKEN_EVENTS
from domain.access import events as access_events
from domain.common.events import DomainEvent
from domain.identity import events as identity_events
from domain.releases import events as release_events
from domain.tokens import events as token_events

CATALOG = Catalog(IDENTITY_EVENTS, ACCESS_EVENTS, TOKEN_EVENTS, RELEASE_EVENTS)


def domain_event_types() -> list[type[DomainEvent]]:
    """Every event type the domain's features define."""
    return [
        kind
        for module in (identity_events, access_events, token_events, release_events)
        for kind in vars(module).values()
        if isinstance(kind, type) and issubclass(kind, DomainEvent) and kind is not DomainEvent
    ]


def pipeline(*, after_commit: Sequence[EventHandler] = ()) -> EventPipeline:
    """Audit rows and outbox rows at each commit, then `after_commit` (every event)."""

    def ignore(handler: str, error: BaseException) -> None:
        return None

    return EventPipeline(
        catalog=CATALOG,
        describe=describe,
        ids=Uuid7IdGenerator(),
        context=FixedRequestContext(RequestMeta()),
        handlers=HandlerTable(
            [Route(handler=h, committed=True) for h in after_commit], on_error=ignore
        ),
        wake_relay=lambda: None,
    )


def units_of_work(
    transactions: TransactionFactory, *, after_commit: Sequence[EventHandler] = ()
) -> UnitOfWorkFactory:
    return pipeline(after_commit=after_commit).units_of_work(transactions)
