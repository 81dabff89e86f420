"""The unit of work use cases hold: a storage transaction that also carries the domain
events of the change, writes them with their audit rows to the outbox in the same
transaction, and hands them to the committed-moment handlers once it has committed.

Aggregates are noted as the repositories hand them out or take them in (any method,
any repository: nothing here names one), so a use case only changes its aggregates and
commits; it never publishes, audits or announces by hand.
"""

import inspect
import typing
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from application.events.catalog import Catalog
from application.events.handlers import HandlerTable
from application.ports.api_key_repository import ApiKeyRepository
from application.ports.audit_log import AuditLog
from application.ports.authorization_code_repository import AuthorizationCodeRepository
from application.ports.consent_repository import ConsentRepository
from application.ports.deployment_repository import DeploymentRepository
from application.ports.environment_repository import EnvironmentRepository
from application.ports.event_handler import Committed
from application.ports.event_outbox import EventOutbox
from application.ports.external_identity_repository import ExternalIdentityRepository
from application.ports.id_generator import IdGenerator
from application.ports.idempotency_repository import IdempotencyRepository
from application.ports.mail_outbox import MailOutbox
from application.ports.mfa_repository import MfaRepository
from application.ports.one_time_token_repository import OneTimeTokenRepository
from application.ports.release_repository import ReleaseRepository
from application.ports.request_context import RequestContext
from application.ports.role_repository import RoleRepository
from application.ports.service_client_repository import ServiceClientRepository
from application.ports.session_repository import SessionRepository
from application.ports.signing_key_repository import SigningKeyRepository
from application.ports.transaction import Transaction
from application.ports.unit_of_work import UnitOfWork
from application.ports.unit_of_work_factory import TransactionFactory, UnitOfWorkFactory
from application.ports.user_repository import UserRepository
from application.ports.webhook_repository import WebhookRepository
from domain.audit.entries import AuditDetail, AuditEvent, Outcome
from domain.common.aggregate import Aggregate
from domain.common.events import DomainEvent

AuditDescription = tuple[str, str | None, Outcome, dict[str, AuditDetail]]
"""(action, target, outcome, details) of an audited event."""
Describe = Callable[[DomainEvent], AuditDescription | None]

# The repositories of a transaction, read off the port: a new one is tracked too.
_REPOSITORIES = tuple(typing.get_type_hints(Transaction))


class EventPipeline:
    """Everything a unit of work does with its events, shared by all of them.

    - Before the commit, in the transaction: an audit row for each event `describe`
      knows (the request's ip, user agent and id from the context, the actor from the
      use case) and one outbox row per event, with a time-ordered id.
    - After the commit: the committed-moment handlers, then `wake_relay`.
    """

    def __init__(
        self,
        *,
        catalog: Catalog,
        describe: Describe,
        ids: IdGenerator,
        context: RequestContext,
        handlers: HandlerTable,
        wake_relay: Callable[[], None],
    ) -> None:
        self._catalog = catalog
        self._describe = describe
        self._ids = ids
        self._context = context
        self._handlers = handlers
        self._wake_relay = wake_relay

    def units_of_work(self, transactions: TransactionFactory) -> UnitOfWorkFactory:
        return lambda: EventfulUnitOfWork(transactions(), self)

    async def write(
        self,
        transaction: Transaction,
        events: Sequence[tuple[DomainEvent, Aggregate | None]],
        *,
        actor_id: UUID | None,
    ) -> list[Committed]:
        meta = self._context.current()
        await transaction.events.hold_order()  # before the first id is drawn
        committed = []
        for event, source in events:
            described = self._describe(event)
            if described is not None:
                action, target, outcome, details = described
                await transaction.audit.append(
                    AuditEvent(
                        id=self._ids.new_id(),
                        action=action,
                        actor_id=actor_id,
                        target_id=target,
                        outcome=outcome,
                        ip=meta.ip,
                        user_agent=meta.user_agent,
                        request_id=meta.request_id,
                        occurred_at=event.occurred_at,
                        details=details,
                    )
                )
            row = self._catalog.row(event, source, id=self._ids.new_id())
            committed.append(Committed(row, event))
        await transaction.events.add([c.row for c in committed])
        return committed

    async def after_commit(self, committed: Sequence[Committed]) -> None:
        await self._handlers.committed(committed)
        self._wake_relay()


class EventfulUnitOfWork(UnitOfWork):
    """A `UnitOfWork` over one storage `Transaction` (see the module docstring)."""

    # The transaction's repositories, tracked (see `__getattr__`).
    users: UserRepository
    sessions: SessionRepository
    roles: RoleRepository
    api_keys: ApiKeyRepository
    audit: AuditLog
    one_time_tokens: OneTimeTokenRepository
    outbox: MailOutbox
    signing_keys: SigningKeyRepository
    clients: ServiceClientRepository
    mfa: MfaRepository
    events: EventOutbox
    releases: ReleaseRepository
    environments: EnvironmentRepository
    deployments: DeploymentRepository
    idempotency: IdempotencyRepository
    webhooks: WebhookRepository
    authorization_codes: AuthorizationCodeRepository
    consents: ConsentRepository
    external_identities: ExternalIdentityRepository

    def __init__(self, transaction: Transaction, pipeline: EventPipeline) -> None:
        self._transaction = transaction
        self._pipeline = pipeline
        self._recorded: list[DomainEvent] = []
        self._seen: dict[int, Aggregate] = {}
        self._committed: list[Committed] = []

    async def __aenter__(self) -> Self:
        await self._transaction.__aenter__()
        return self

    def __getattr__(self, name: str) -> Any:
        # A repository on first use (the transaction opens them on entry), then kept.
        if name not in _REPOSITORIES:
            raise AttributeError(name)
        tracked = _Tracked(getattr(self._transaction, name), self._seen)
        setattr(self, name, tracked)
        return tracked

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._transaction.__aexit__(exc_type, exc, tb)
        finally:
            # Once the connection is back in the pool (a handler talks to Redis), and
            # also when the block raised after its commit: the change is durable.
            committed, self._committed = self._committed, []
            if committed:
                await self._pipeline.after_commit(committed)

    def record(self, *events: DomainEvent) -> None:
        self._recorded.extend(events)

    async def commit(self, *, actor_id: UUID | None = None) -> None:
        events: list[tuple[DomainEvent, Aggregate | None]] = [(e, None) for e in self._recorded]
        self._recorded = []
        for aggregate in self._seen.values():
            events += [(e, aggregate) for e in aggregate.pull_events()]
        committed = (
            await self._pipeline.write(self._transaction, events, actor_id=actor_id)
            if events
            else []
        )
        await self._transaction.commit()
        self._committed += committed


class _Tracked:
    """A repository whose every call notes the aggregates passed in and handed out."""

    __slots__ = ("_inner", "_seen")

    def __init__(self, inner: object, seen: dict[int, Aggregate]) -> None:
        self._inner = inner
        self._seen = seen

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        async def tracked(*args: Any, **kwargs: Any) -> Any:
            self._note(args)
            result = await attribute(*args, **kwargs)
            self._note((result,))
            return result

        return tracked

    def _note(self, values: Iterable[object]) -> None:
        for value in values:
            if isinstance(value, Aggregate):
                self._seen.setdefault(id(value), value)
            elif isinstance(value, list | tuple):
                self._note(value)
