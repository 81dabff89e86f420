"""In-memory twins of the persistence adapters, with the same contract (checked by the
contract suite): for unit tests, HTTP tests and local experiments without a database."""

from adapters.memory.api_key_repository import InMemoryApiKeyRepository
from adapters.memory.audit_log import InMemoryAuditLog
from adapters.memory.mail_outbox import InMemoryMailOutbox
from adapters.memory.one_time_token_repository import InMemoryOneTimeTokenRepository
from adapters.memory.role_repository import InMemoryRoleRepository
from adapters.memory.session_repository import InMemorySessionRepository
from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork
from adapters.memory.user_repository import InMemoryUserRepository

__all__ = [
    "InMemoryApiKeyRepository",
    "InMemoryAuditLog",
    "InMemoryMailOutbox",
    "InMemoryOneTimeTokenRepository",
    "InMemoryRoleRepository",
    "InMemorySessionRepository",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "InMemoryUserRepository",
]
