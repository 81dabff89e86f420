"""In-memory twins of the persistence adapters, with the same contract (checked by the
contract suite): for unit tests, HTTP tests and local experiments without a database."""

from adapters.memory.store import InMemoryStore
from adapters.memory.unit_of_work import InMemoryUnitOfWork

__all__ = ["InMemoryStore", "InMemoryUnitOfWork"]
