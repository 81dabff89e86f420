from collections.abc import Callable
from contextlib import suppress
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.crypto.secret_box import DEVELOPMENT_ONLY_KEY, FernetSecretBox
from adapters.resilience.circuit_breaker import CircuitBreaker, Ticket
from adapters.sqlalchemy.api_key_repository import SqlAlchemyApiKeyRepository
from adapters.sqlalchemy.audit_log import SqlAlchemyAuditLog
from adapters.sqlalchemy.authorization_code_repository import SqlAlchemyAuthorizationCodeRepository
from adapters.sqlalchemy.consent_repository import SqlAlchemyConsentRepository
from adapters.sqlalchemy.engine import REACHED_DATABASE, READS_ONLY
from adapters.sqlalchemy.errors import translate, translating
from adapters.sqlalchemy.event_outbox import SqlAlchemyEventOutbox
from adapters.sqlalchemy.external_identity_repository import (
    SqlAlchemyExternalIdentityRepository,
)
from adapters.sqlalchemy.mail_outbox import SqlAlchemyMailOutbox
from adapters.sqlalchemy.mfa_repository import SqlAlchemyMfaRepository
from adapters.sqlalchemy.one_time_token_repository import SqlAlchemyOneTimeTokenRepository
from adapters.sqlalchemy.releases import (
    SqlAlchemyDeploymentRepository,
    SqlAlchemyEnvironmentRepository,
    SqlAlchemyIdempotencyRepository,
    SqlAlchemyReleaseRepository,
)
from adapters.sqlalchemy.role_repository import SqlAlchemyRoleRepository
from adapters.sqlalchemy.service_client_repository import SqlAlchemyServiceClientRepository
from adapters.sqlalchemy.session_repository import SqlAlchemySessionRepository
from adapters.sqlalchemy.signing_key_repository import SqlAlchemySigningKeyRepository
from adapters.sqlalchemy.user_repository import SqlAlchemyUserRepository
from adapters.sqlalchemy.webhook_repository import SqlAlchemyWebhookRepository
from application.errors import BusyError, StorageUnavailableError
from application.ports.transaction import Transaction

# Each repository by its name on the unit of work, made from the transaction's session;
# those that keep secrets at rest also take the secret box.
_REPOSITORIES: dict[str, Callable[[AsyncSession], object]] = {
    "users": SqlAlchemyUserRepository,
    "sessions": SqlAlchemySessionRepository,
    "roles": SqlAlchemyRoleRepository,
    "api_keys": SqlAlchemyApiKeyRepository,
    "audit": SqlAlchemyAuditLog,
    "one_time_tokens": SqlAlchemyOneTimeTokenRepository,
    "outbox": SqlAlchemyMailOutbox,
    "clients": SqlAlchemyServiceClientRepository,
    "events": SqlAlchemyEventOutbox,
    "releases": SqlAlchemyReleaseRepository,
    "environments": SqlAlchemyEnvironmentRepository,
    "deployments": SqlAlchemyDeploymentRepository,
    "idempotency": SqlAlchemyIdempotencyRepository,
    "authorization_codes": SqlAlchemyAuthorizationCodeRepository,
    "consents": SqlAlchemyConsentRepository,
    "external_identities": SqlAlchemyExternalIdentityRepository,
}
_SECRET_KEEPING_REPOSITORIES: dict[str, Callable[[AsyncSession, FernetSecretBox], object]] = {
    "signing_keys": SqlAlchemySigningKeyRepository,
    "mfa": SqlAlchemyMfaRepository,
    "webhooks": SqlAlchemyWebhookRepository,
}


class SqlAlchemyUnitOfWork(Transaction):
    """One database transaction on one `AsyncSession` (the `Transaction` port).

    Entering opens the session (the transaction begins with the first statement);
    leaving rolls back whatever was not committed and returns the connection to the
    pool. Any infrastructure failure inside the block, in `commit` or while cleaning up
    surfaces as `StorageUnavailableError` (except a cleanup failure after a successful
    commit, which is swallowed: the work is durable); a unique violation on the users' email or
    username as `EmailAlreadyRegisteredError` / `UsernameTakenError`, on a role name as
    `RoleExistsError`, on a client id or a signing key id as `ConflictError`. Both are
    chained to the original exception. Single use.

    Signing keys' private material, TOTP seeds and webhook secrets are encrypted with
    `secret_box` before they reach the database and decrypted on read.

    With a `breaker`, entering is refused at once (`StorageUnavailableError` carrying
    the seconds until the next probe) while the circuit is open. A transaction that
    ends in `StorageUnavailableError` counts as a failure; one that reached the
    database and ended any other way (a domain refusal included: the database answered)
    as a success; one that never reached it, was cancelled, or waited in vain for a
    pooled connection (`StorageBusyError`: load, not a failure) counts as neither.
    """

    users: SqlAlchemyUserRepository
    sessions: SqlAlchemySessionRepository
    roles: SqlAlchemyRoleRepository
    api_keys: SqlAlchemyApiKeyRepository
    audit: SqlAlchemyAuditLog
    one_time_tokens: SqlAlchemyOneTimeTokenRepository
    outbox: SqlAlchemyMailOutbox
    signing_keys: SqlAlchemySigningKeyRepository
    clients: SqlAlchemyServiceClientRepository
    authorization_codes: SqlAlchemyAuthorizationCodeRepository
    consents: SqlAlchemyConsentRepository
    external_identities: SqlAlchemyExternalIdentityRepository
    mfa: SqlAlchemyMfaRepository
    events: SqlAlchemyEventOutbox
    releases: SqlAlchemyReleaseRepository
    environments: SqlAlchemyEnvironmentRepository
    deployments: SqlAlchemyDeploymentRepository
    idempotency: SqlAlchemyIdempotencyRepository
    webhooks: SqlAlchemyWebhookRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[Any],
        secret_box: FernetSecretBox | None = None,
        breaker: CircuitBreaker | None = None,
        *,
        reads_only: bool = False,
    ) -> None:
        """`reads_only`: the transaction will not write. Its statements then run in
        autocommit (on SQLite no BEGIN IMMEDIATE), so the hot reads of every request
        (a cache miss, a login's account lookup) do not queue for the write lock and
        cost one trip each."""
        self._session_factory = session_factory
        self._reads_only = reads_only
        self._breaker = breaker
        self._ticket: Ticket | None = None
        # DEVELOPMENT ONLY fallback, so callers that predate encryption at rest keep
        # working: the key is public (it is in the source), so secrets written with it
        # are as good as plaintext. Production passes a box built from settings.
        self._secret_box = (
            secret_box if secret_box is not None else FernetSecretBox([DEVELOPMENT_ONLY_KEY])
        )
        self._session: AsyncSession | None = None
        self._used = False
        self._committed = False

    async def __aenter__(self) -> Self:
        if self._used:
            raise RuntimeError("a unit of work is used for one transaction only")
        self._used = True
        if self._breaker is not None:
            self._ticket = self._breaker.before_call()
        self._session = (
            self._session_factory(execution_options={READS_ONLY: True})
            if self._reads_only
            else self._session_factory()
        )
        return self

    def __getattr__(self, name: str) -> Any:
        # A repository on first use, then kept: most transactions touch one or two of
        # the nineteen, and building them all cost about 35 µs each time (py-spy).
        session = self.__dict__.get("_session")
        if session is None:
            raise AttributeError(name)
        if name in _REPOSITORIES:
            repository = _REPOSITORIES[name](session)
        elif name in _SECRET_KEEPING_REPOSITORIES:
            repository = _SECRET_KEEPING_REPOSITORIES[name](session, self._secret_box)
        else:
            raise AttributeError(name)
        setattr(self, name, repository)
        return repository

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        assert session is not None, "__aexit__ without __aenter__"
        reached_database = (
            self._committed or session.in_transaction() or REACHED_DATABASE in session.info
        )
        try:
            await self._finish(session, exc)
        except BaseException as raised:
            self._report(raised, reached_database)
            raise
        self._report(exc, reached_database)

    async def _finish(self, session: AsyncSession, exc: BaseException | None) -> None:
        try:
            # Rolling back after a commit only discards writes made after it.
            await session.rollback()
            await session.close()
        except Exception as cleanup_error:
            if exc is None and not self._committed:
                mapped = translate(cleanup_error)
                if mapped is None:
                    raise
                raise mapped from cleanup_error
            # A dead connection cannot roll back. Either an error already raised says
            # more, or the work is committed and must not be reported as lost.
            with suppress(Exception):
                await session.invalidate()
        if exc is not None:
            mapped = translate(exc)
            if mapped is not None:
                raise mapped from exc

    def _report(self, outcome: BaseException | None, reached_database: bool) -> None:
        if self._breaker is None or self._ticket is None:
            return
        if isinstance(outcome, BusyError):
            # No connection came free in time: load, which says nothing of the database.
            self._breaker.release(self._ticket)
        elif isinstance(outcome, StorageUnavailableError):
            self._breaker.record_failure(self._ticket)
        elif reached_database and (outcome is None or isinstance(outcome, Exception)):
            self._breaker.record_success(self._ticket)
        else:
            self._breaker.release(self._ticket)

    async def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit() outside `async with`")
        with translating():
            await self._session.commit()
        self._committed = True
