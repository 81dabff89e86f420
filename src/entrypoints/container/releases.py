"""The releases context: its use cases, and its cache over the shared two-tier cache."""

from dependency_injector import containers, providers

from application.releases.cache import ReleaseCache
from application.releases.use_cases.manage_deployments import (
    ChangeDeployment,
    CreateDeployment,
    GetDeployment,
    ListDeployments,
)
from application.releases.use_cases.manage_environments import (
    CreateEnvironment,
    GetEnvironment,
    ListEnvironments,
)
from application.releases.use_cases.manage_releases import (
    ChangeRelease,
    CreateRelease,
    GetRelease,
    ListReleases,
)
from entrypoints.config.settings import Settings


class Releases(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    core = providers.DependenciesContainer()
    persistence = providers.DependenciesContainer()
    caching = providers.DependenciesContainer()
    events = providers.DependenciesContainer()

    _uow = (events.uow_factory, core.clock)
    # Reads open plain read-only transactions: nothing to audit, no write lock on SQLite.
    _reads = persistence.reads.provider

    release_cache = providers.Singleton(
        ReleaseCache, caching.cache, _reads, ttl_seconds=settings.provided.cache_ttl_seconds
    )
    create_release = providers.Singleton(CreateRelease, *_uow, ids=core.ids)
    get_release = providers.Singleton(GetRelease, release_cache)
    list_releases = providers.Singleton(ListReleases, _reads)
    change_release = providers.Singleton(ChangeRelease, *_uow)
    create_environment = providers.Singleton(CreateEnvironment, *_uow)
    list_environments = providers.Singleton(ListEnvironments, release_cache)
    get_environment = providers.Singleton(GetEnvironment, release_cache)
    create_deployment = providers.Singleton(CreateDeployment, *_uow, ids=core.ids)
    get_deployment = providers.Singleton(GetDeployment, _reads)
    list_deployments = providers.Singleton(ListDeployments, _reads)
    change_deployment = providers.Singleton(ChangeDeployment, *_uow)
