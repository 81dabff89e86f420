from abc import abstractmethod
from types import TracebackType
from typing import Protocol, Self

from application.ports.api_key_repository import ApiKeyRepository
from application.ports.audit_log import AuditLog
from application.ports.authorization_code_repository import AuthorizationCodeRepository
from application.ports.consent_repository import ConsentRepository
from application.ports.deployment_repository import DeploymentRepository
from application.ports.environment_repository import EnvironmentRepository
from application.ports.event_outbox import EventOutbox
from application.ports.external_identity_repository import ExternalIdentityRepository
from application.ports.idempotency_repository import IdempotencyRepository
from application.ports.mail_outbox import MailOutbox
from application.ports.mfa_repository import MfaRepository
from application.ports.one_time_token_repository import OneTimeTokenRepository
from application.ports.release_repository import ReleaseRepository
from application.ports.role_repository import RoleRepository
from application.ports.service_client_repository import ServiceClientRepository
from application.ports.session_repository import SessionRepository
from application.ports.signing_key_repository import SigningKeyRepository
from application.ports.user_repository import UserRepository
from application.ports.webhook_repository import WebhookRepository


class Transaction(Protocol):
    """One storage transaction, used as `async with tx:`: what a storage adapter offers.

    Entering opens it; leaving rolls back unless `commit()` was called. Infrastructure
    failures surface as `StorageUnavailableError`; unique-constraint violations as the
    matching `ConflictError`. A transaction is used once. It knows nothing of domain
    events: use cases hold a `UnitOfWork`, which runs on one of these.
    """

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
    # The releases context.
    releases: ReleaseRepository
    environments: EnvironmentRepository
    deployments: DeploymentRepository
    idempotency: IdempotencyRepository
    webhooks: WebhookRepository
    authorization_codes: AuthorizationCodeRepository
    consents: ConsentRepository
    external_identities: ExternalIdentityRepository

    @abstractmethod
    async def __aenter__(self) -> Self: ...

    @abstractmethod
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    @abstractmethod
    async def commit(self) -> None: ...
