"""The composition root: the one place that knows which adapter stands behind each port.

One sub-container per concern, each in its own module; this one only joins them. The
edges (routes, the command line) and tests name what they need without knowing which
concern holds it: `container.log_in`, `container.password_hasher` (names are unique).
Adapters are picked from settings: SQLite or Postgres (or `memory://`) for storage,
Redis or in-process for shared state. Tests override any provider instead of patching,
e.g. `container.password_hasher.override(providers.Singleton(FakePasswordHasher))`.
"""

from typing import Any

from dependency_injector import containers, providers

from entrypoints.config.settings import Settings
from entrypoints.container.access import Access
from entrypoints.container.caching import Caching
from entrypoints.container.core import Core
from entrypoints.container.events import Events
from entrypoints.container.identity import Identity
from entrypoints.container.lifecycle import Loop, start, start_loops, stop
from entrypoints.container.live import Live
from entrypoints.container.mail import Mail
from entrypoints.container.observability import VERSION, Observability
from entrypoints.container.persistence import MEMORY_URL, Persistence
from entrypoints.container.releases import Releases
from entrypoints.container.security import Security
from entrypoints.container.signin import SignIn
from entrypoints.container.tokens import Tokens

__all__ = ["MEMORY_URL", "VERSION", "Container", "Loop", "start", "start_loops", "stop"]


class Services(containers.DynamicContainer):
    """A container whose own attributes fall back to its sub-containers' providers."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        index: dict[str, providers.Provider[Any]] | None = self.__dict__.get("_index")
        if index is None:
            index = _index(self)
            object.__setattr__(self, "_index", index)
        try:
            return index[name]
        except KeyError:
            raise AttributeError(name) from None


def _index(root: containers.Container) -> dict[str, providers.Provider[Any]]:
    found: dict[str, providers.Provider[Any]] = {}
    for concern in root.providers.values():
        if not isinstance(concern, providers.Container):
            continue
        for name, provider in concern.container.providers.items():
            if isinstance(provider, providers.Dependency | providers.DependenciesContainer):
                continue  # what a concern takes from another, not what it offers
            if name in found:
                raise ValueError(f"{name!r} is provided by two sub-containers")
            found[name] = provider
    return found


class Container(containers.DeclarativeContainer):
    instance_type = Services
    settings = providers.Dependency(instance_of=Settings)

    core = providers.Container(Core, settings=settings)
    persistence = providers.Container(Persistence, settings=settings, core=core)
    security = providers.Container(Security, settings=settings, core=core)
    caching = providers.Container(Caching, settings=settings, core=core, persistence=persistence)
    events = providers.Container(
        Events,
        settings=settings,
        core=core,
        persistence=persistence,
        security=security,
        caching=caching,
    )
    tokens = providers.Container(
        Tokens,
        settings=settings,
        core=core,
        persistence=persistence,
        security=security,
        caching=caching,
        events=events,
    )
    mail = providers.Container(Mail, settings=settings, core=core, persistence=persistence)
    identity = providers.Container(
        Identity,
        settings=settings,
        core=core,
        security=security,
        events=events,
        tokens=tokens,
        mail=mail,
        persistence=persistence,
    )
    signin = providers.Container(
        SignIn,
        settings=settings,
        core=core,
        security=security,
        caching=caching,
        events=events,
        tokens=tokens,
        identity=identity,
    )
    access = providers.Container(
        Access,
        core=core,
        security=security,
        events=events,
        identity=identity,
        persistence=persistence,
        caching=caching,
    )
    releases = providers.Container(
        Releases,
        settings=settings,
        core=core,
        persistence=persistence,
        caching=caching,
        events=events,
    )
    live = providers.Container(
        Live, settings=settings, core=core, persistence=persistence, events=events
    )
    observability = providers.Container(
        Observability,
        settings=settings,
        core=core,
        persistence=persistence,
        security=security,
        identity=identity,
    )
