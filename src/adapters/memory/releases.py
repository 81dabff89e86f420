"""The releases context's repositories on an `InMemoryStore`'s working tables, with the
SQL adapters' contract (the contract suite checks both): unique release name+version and
environment name, at most one active deployment per environment, detached copies in and
out, newest first by id."""

from datetime import datetime
from uuid import UUID

from adapters.memory.store import Tables, detached, utc, utc_or_none
from application.errors import (
    DeploymentNotFoundError,
    EnvironmentExistsError,
    EnvironmentNotFoundError,
    IdempotencyKeyInUseError,
    ReleaseExistsError,
    ReleaseNotFoundError,
)
from application.ports.deployment_repository import DeploymentFilter, DeploymentRepository
from application.ports.environment_repository import EnvironmentRepository
from application.ports.idempotency_repository import IdempotencyRecord, IdempotencyRepository
from application.ports.release_repository import ReleaseFilter, ReleaseRepository
from domain.releases.deployment import Deployment, DeploymentStatus
from domain.releases.environment import Environment
from domain.releases.errors import EnvironmentBusyError
from domain.releases.release import Release


class InMemoryReleaseRepository(ReleaseRepository):
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, release: Release) -> None:
        if release.id in self._tables.releases:
            raise ValueError(f"duplicate release id {release.id}")
        if any(
            r.name == release.name and r.version == release.version
            for r in self._tables.releases.values()
        ):
            raise ReleaseExistsError()
        self._tables.releases[release.id] = _release(release)

    async def update(self, release: Release) -> None:
        if release.id not in self._tables.releases:
            raise ReleaseNotFoundError()
        self._tables.releases[release.id] = _release(release)

    async def get(self, release_id: UUID, *, for_update: bool = False) -> Release | None:
        found = self._tables.releases.get(release_id)
        return None if found is None else detached(found)

    async def list(
        self, *, filter: ReleaseFilter, before: UUID | None, limit: int
    ) -> list[Release]:
        found = [
            r
            for r in self._tables.releases.values()
            if (before is None or r.id < before)
            and (filter.name is None or r.name.value == filter.name)
            and (filter.status is None or r.status == filter.status)
        ]
        found.sort(key=lambda r: r.id, reverse=True)
        return [detached(r) for r in found[:limit]]


class InMemoryEnvironmentRepository(EnvironmentRepository):
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, environment: Environment) -> None:
        if environment.name.value in self._tables.environments:
            raise EnvironmentExistsError()
        self._tables.environments[environment.name.value] = _environment(environment)

    async def update(self, environment: Environment) -> None:
        if environment.name.value not in self._tables.environments:
            raise EnvironmentNotFoundError()
        self._tables.environments[environment.name.value] = _environment(environment)

    async def get(self, name: str, *, for_update: bool = False) -> Environment | None:
        found = self._tables.environments.get(name)
        return None if found is None else detached(found)

    async def list(self) -> list[Environment]:
        found = sorted(self._tables.environments.values(), key=lambda e: (e.position, e.name.value))
        return [detached(e) for e in found]


class InMemoryDeploymentRepository(DeploymentRepository):
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def add(self, deployment: Deployment) -> None:
        if deployment.id in self._tables.deployments:
            raise ValueError(f"duplicate deployment id {deployment.id}")
        self._check_one_active(deployment)
        self._tables.deployments[deployment.id] = _deployment(deployment)

    async def update(self, deployment: Deployment) -> None:
        if deployment.id not in self._tables.deployments:
            raise DeploymentNotFoundError()
        self._check_one_active(deployment)
        self._tables.deployments[deployment.id] = _deployment(deployment)

    async def get(self, deployment_id: UUID, *, for_update: bool = False) -> Deployment | None:
        found = self._tables.deployments.get(deployment_id)
        return None if found is None else detached(found)

    async def list(
        self, *, filter: DeploymentFilter, before: UUID | None, limit: int
    ) -> list[Deployment]:
        found = [
            d
            for d in self._tables.deployments.values()
            if (before is None or d.id < before)
            and (filter.environment is None or d.environment.value == filter.environment)
            and (filter.release_id is None or d.release_id == filter.release_id)
            and (filter.status is None or d.status == filter.status)
        ]
        found.sort(key=lambda d: d.id, reverse=True)
        return [detached(d) for d in found[:limit]]

    async def succeeded_environments(self, release_id: UUID) -> frozenset[str]:
        return frozenset(
            d.environment.value
            for d in self._tables.deployments.values()
            if d.release_id == release_id and d.status == DeploymentStatus.SUCCEEDED
        )

    def _check_one_active(self, deployment: Deployment) -> None:
        # What the partial unique index on the SQL side enforces.
        if deployment.active and any(
            d.active and d.environment == deployment.environment and d.id != deployment.id
            for d in self._tables.deployments.values()
        ):
            raise EnvironmentBusyError()


class InMemoryIdempotencyRepository(IdempotencyRepository):
    def __init__(self, tables: Tables) -> None:
        self._tables = tables

    async def get(self, scope: str, key: str, *, not_before: datetime) -> IdempotencyRecord | None:
        found = self._tables.idempotency.get((scope, key))
        return found if found is not None and found.created_at >= not_before else None

    async def add(self, record: IdempotencyRecord, *, not_before: datetime) -> None:
        current = self._tables.idempotency.get((record.scope, record.key))
        if current is not None and current.created_at >= not_before:
            raise IdempotencyKeyInUseError()
        stored = IdempotencyRecord(
            scope=record.scope,
            key=record.key,
            fingerprint=record.fingerprint,
            status=record.status,
            resource_id=record.resource_id,
            created_at=utc(record.created_at),
        )
        self._tables.idempotency[(record.scope, record.key)] = stored

    async def prune(self, *, before: datetime, limit: int) -> int:
        old = [k for k, r in self._tables.idempotency.items() if r.created_at < before][:limit]
        for k in old:
            del self._tables.idempotency[k]
        return len(old)


def _release(release: Release) -> Release:
    stored = detached(release)
    stored.created_at, stored.updated_at = utc(release.created_at), utc(release.updated_at)
    return stored


def _environment(environment: Environment) -> Environment:
    stored = detached(environment)
    stored.created_at = utc(environment.created_at)
    stored.updated_at = utc(environment.updated_at)
    return stored


def _deployment(deployment: Deployment) -> Deployment:
    stored = detached(deployment)
    stored.created_at = utc(deployment.created_at)
    stored.started_at = utc_or_none(deployment.started_at)
    stored.finished_at = utc_or_none(deployment.finished_at)
    return stored
