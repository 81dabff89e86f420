from types import TracebackType
from typing import Self

from adapters.memory.api_key_repository import InMemoryApiKeyRepository
from adapters.memory.audit_log import InMemoryAuditLog
from adapters.memory.authorization_code_repository import InMemoryAuthorizationCodeRepository
from adapters.memory.consent_repository import InMemoryConsentRepository
from adapters.memory.event_outbox import InMemoryEventOutbox
from adapters.memory.external_identity_repository import InMemoryExternalIdentityRepository
from adapters.memory.mail_outbox import InMemoryMailOutbox
from adapters.memory.mfa_repository import InMemoryMfaRepository
from adapters.memory.one_time_token_repository import InMemoryOneTimeTokenRepository
from adapters.memory.releases import (
    InMemoryDeploymentRepository,
    InMemoryEnvironmentRepository,
    InMemoryIdempotencyRepository,
    InMemoryReleaseRepository,
)
from adapters.memory.role_repository import InMemoryRoleRepository
from adapters.memory.service_client_repository import InMemoryServiceClientRepository
from adapters.memory.session_repository import InMemorySessionRepository
from adapters.memory.signing_key_repository import InMemorySigningKeyRepository
from adapters.memory.store import InMemoryStore, Tables
from adapters.memory.user_repository import InMemoryUserRepository
from adapters.memory.webhook_repository import InMemoryWebhookRepository
from application.ports.transaction import Transaction


class InMemoryUnitOfWork(Transaction):
    """A transaction on an `InMemoryStore` (the `Transaction` port).

    Entering takes the store's lock (transactions are serialized) and branches a private
    copy of the tables; `commit` publishes that copy; leaving without committing drops
    it, so an abandoned transaction leaves no trace. Single use.
    """

    users: InMemoryUserRepository
    sessions: InMemorySessionRepository
    roles: InMemoryRoleRepository
    api_keys: InMemoryApiKeyRepository
    audit: InMemoryAuditLog
    one_time_tokens: InMemoryOneTimeTokenRepository
    outbox: InMemoryMailOutbox
    signing_keys: InMemorySigningKeyRepository
    clients: InMemoryServiceClientRepository
    mfa: InMemoryMfaRepository
    events: InMemoryEventOutbox
    releases: InMemoryReleaseRepository
    environments: InMemoryEnvironmentRepository
    deployments: InMemoryDeploymentRepository
    idempotency: InMemoryIdempotencyRepository
    webhooks: InMemoryWebhookRepository
    authorization_codes: InMemoryAuthorizationCodeRepository
    consents: InMemoryConsentRepository
    external_identities: InMemoryExternalIdentityRepository

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._working: Tables | None = None
        self._used = False

    async def __aenter__(self) -> Self:
        if self._used:
            raise RuntimeError("a unit of work is used for one transaction only")
        self._used = True
        await self._store.lock.acquire()
        self._working = working = self._store.committed.branch()
        self.users = InMemoryUserRepository(working)
        self.sessions = InMemorySessionRepository(working)
        self.roles = InMemoryRoleRepository(working)
        self.api_keys = InMemoryApiKeyRepository(working)
        self.audit = InMemoryAuditLog(working)
        self.one_time_tokens = InMemoryOneTimeTokenRepository(working)
        self.outbox = InMemoryMailOutbox(working)
        self.signing_keys = InMemorySigningKeyRepository(working)
        self.clients = InMemoryServiceClientRepository(working)
        self.mfa = InMemoryMfaRepository(working)
        self.events = InMemoryEventOutbox(working)
        self.releases = InMemoryReleaseRepository(working)
        self.environments = InMemoryEnvironmentRepository(working)
        self.deployments = InMemoryDeploymentRepository(working)
        self.idempotency = InMemoryIdempotencyRepository(working)
        self.webhooks = InMemoryWebhookRepository(working)
        self.authorization_codes = InMemoryAuthorizationCodeRepository(working)
        self.consents = InMemoryConsentRepository(working)
        self.external_identities = InMemoryExternalIdentityRepository(working)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None  # whatever was not committed is gone
        self._store.lock.release()

    async def commit(self) -> None:
        if self._working is None:
            raise RuntimeError("commit() outside `async with`")
        # Publish a copy: writes after a commit stay in the working branch, uncommitted.
        self._store.committed = self._working.branch()
