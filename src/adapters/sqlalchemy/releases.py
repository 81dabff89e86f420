"""The releases context's repositories, inside the caller's session. Never commit.

Writes are Core statements run at the call, so a unique constraint answers right there
(`ReleaseExistsError`, `EnvironmentExistsError`, `EnvironmentBusyError` from the
partial unique index on active deployments, `IdempotencyKeyInUseError`). Rows map to
entities explicitly: the in-memory twins return the same plain objects.
"""

import builtins
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.sqlalchemy.errors import translated
from adapters.sqlalchemy.models import (
    DeploymentRow,
    EnvironmentRow,
    IdempotencyRecordRow,
    ReleaseRow,
)
from application.errors import (
    DeploymentNotFoundError,
    EnvironmentNotFoundError,
    ReleaseNotFoundError,
)
from application.ports.deployment_repository import DeploymentFilter, DeploymentRepository
from application.ports.environment_repository import EnvironmentRepository
from application.ports.idempotency_repository import IdempotencyRecord, IdempotencyRepository
from application.ports.release_repository import ReleaseFilter, ReleaseRepository
from domain.releases.deployment import Deployment, DeploymentStatus
from domain.releases.environment import Environment
from domain.releases.release import Release, ReleaseStatus
from domain.releases.values import EnvironmentName, SemVer, ServiceName


class SqlAlchemyReleaseRepository(ReleaseRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def add(self, release: Release) -> None:
        await self._session.execute(insert(ReleaseRow).values(**_release_row(release)))

    @translated
    async def update(self, release: Release) -> None:
        changed = await self._session.execute(
            update(ReleaseRow)
            .where(ReleaseRow.id == release.id)
            .values(**_release_row(release))
            .returning(ReleaseRow.id)
        )
        if changed.scalar_one_or_none() is None:
            raise ReleaseNotFoundError()

    @translated
    async def get(self, release_id: UUID, *, for_update: bool = False) -> Release | None:
        query = select(ReleaseRow.__table__).where(ReleaseRow.id == release_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().one_or_none()
        return None if row is None else _release(row)

    @translated
    async def list(
        self, *, filter: ReleaseFilter, before: UUID | None, limit: int
    ) -> builtins.list[Release]:
        query = select(ReleaseRow.__table__).order_by(ReleaseRow.id.desc()).limit(limit)
        if before is not None:
            query = query.where(ReleaseRow.id < before)
        if filter.name is not None:
            query = query.where(ReleaseRow.name == filter.name)
        if filter.status is not None:
            query = query.where(ReleaseRow.status == filter.status.value)
        rows = (await self._session.execute(query)).mappings()
        return [_release(row) for row in rows]


class SqlAlchemyEnvironmentRepository(EnvironmentRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def add(self, environment: Environment) -> None:
        await self._session.execute(insert(EnvironmentRow).values(**_environment_row(environment)))

    @translated
    async def update(self, environment: Environment) -> None:
        changed = await self._session.execute(
            update(EnvironmentRow)
            .where(EnvironmentRow.name == environment.name.value)
            .values(**_environment_row(environment))
            .returning(EnvironmentRow.name)
        )
        if changed.scalar_one_or_none() is None:
            raise EnvironmentNotFoundError()

    @translated
    async def get(self, name: str, *, for_update: bool = False) -> Environment | None:
        query = select(EnvironmentRow.__table__).where(EnvironmentRow.name == name)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().one_or_none()
        return None if row is None else _environment(row)

    @translated
    async def list(self) -> builtins.list[Environment]:
        query = select(EnvironmentRow.__table__).order_by(
            EnvironmentRow.position, EnvironmentRow.name
        )
        return [_environment(row) for row in (await self._session.execute(query)).mappings()]


class SqlAlchemyDeploymentRepository(DeploymentRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def add(self, deployment: Deployment) -> None:
        await self._session.execute(insert(DeploymentRow).values(**_deployment_row(deployment)))

    @translated
    async def update(self, deployment: Deployment) -> None:
        changed = await self._session.execute(
            update(DeploymentRow)
            .where(DeploymentRow.id == deployment.id)
            .values(**_deployment_row(deployment))
            .returning(DeploymentRow.id)
        )
        if changed.scalar_one_or_none() is None:
            raise DeploymentNotFoundError()

    @translated
    async def get(self, deployment_id: UUID, *, for_update: bool = False) -> Deployment | None:
        query = select(DeploymentRow.__table__).where(DeploymentRow.id == deployment_id)
        if for_update:
            query = query.with_for_update()
        row = (await self._session.execute(query)).mappings().one_or_none()
        return None if row is None else _deployment(row)

    @translated
    async def list(
        self, *, filter: DeploymentFilter, before: UUID | None, limit: int
    ) -> builtins.list[Deployment]:
        query = select(DeploymentRow.__table__).order_by(DeploymentRow.id.desc()).limit(limit)
        if before is not None:
            query = query.where(DeploymentRow.id < before)
        if filter.environment is not None:
            query = query.where(DeploymentRow.environment == filter.environment)
        if filter.release_id is not None:
            query = query.where(DeploymentRow.release_id == filter.release_id)
        if filter.status is not None:
            query = query.where(DeploymentRow.status == filter.status.value)
        return [_deployment(row) for row in (await self._session.execute(query)).mappings()]

    @translated
    async def succeeded_environments(self, release_id: UUID) -> frozenset[str]:
        names = await self._session.scalars(
            select(DeploymentRow.environment)
            .where(
                DeploymentRow.release_id == release_id,
                DeploymentRow.status == DeploymentStatus.SUCCEEDED.value,
            )
            .distinct()
        )
        return frozenset(names)


class SqlAlchemyIdempotencyRepository(IdempotencyRepository):
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @translated
    async def get(self, scope: str, key: str, *, not_before: datetime) -> IdempotencyRecord | None:
        row = (
            (
                await self._session.execute(
                    select(IdempotencyRecordRow.__table__).where(
                        IdempotencyRecordRow.scope == scope,
                        IdempotencyRecordRow.key == key,
                        IdempotencyRecordRow.created_at >= not_before,
                    )
                )
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else IdempotencyRecord(**row)

    @translated
    async def add(self, record: IdempotencyRecord, *, not_before: datetime) -> None:
        # An expired record of this key makes way; a live one keeps it (unique key).
        await self._session.execute(
            delete(IdempotencyRecordRow).where(
                IdempotencyRecordRow.scope == record.scope,
                IdempotencyRecordRow.key == record.key,
                IdempotencyRecordRow.created_at < not_before,
            )
        )
        await self._session.execute(
            insert(IdempotencyRecordRow).values(
                scope=record.scope,
                key=record.key,
                fingerprint=record.fingerprint,
                status=record.status,
                resource_id=record.resource_id,
                created_at=record.created_at,
            )
        )

    @translated
    async def prune(self, *, before: datetime, limit: int) -> int:
        old = (
            select(IdempotencyRecordRow.scope, IdempotencyRecordRow.key)
            .where(IdempotencyRecordRow.created_at < before)
            # One order for every caller: concurrent prunes wait, never deadlock.
            .order_by(IdempotencyRecordRow.scope, IdempotencyRecordRow.key)
            .limit(limit)
        )
        rows = (await self._session.execute(old)).all()
        for scope, key in rows:
            await self._session.execute(
                delete(IdempotencyRecordRow).where(
                    IdempotencyRecordRow.scope == scope, IdempotencyRecordRow.key == key
                )
            )
        return len(rows)


def _release_row(release: Release) -> dict[str, Any]:
    return {
        "id": release.id,
        "name": release.name.value,
        "version": release.version.value,
        "status": release.status.value,
        "notes": release.notes,
        "created_by": release.created_by,
        "created_at": release.created_at,
        "updated_at": release.updated_at,
    }


def _release(row: Any) -> Release:
    return Release(
        id=row["id"],
        name=ServiceName(row["name"]),
        version=SemVer(row["version"]),
        status=ReleaseStatus(row["status"]),
        notes=row["notes"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _environment_row(environment: Environment) -> dict[str, Any]:
    return {
        "name": environment.name.value,
        "protected": environment.protected,
        "requires": list(environment.requires),
        "position": environment.position,
        "current_release_id": environment.current_release_id,
        "current_version": environment.current_version,
        "current_deployment_id": environment.current_deployment_id,
        "created_at": environment.created_at,
        "updated_at": environment.updated_at,
    }


def _environment(row: Any) -> Environment:
    return Environment(
        name=EnvironmentName(row["name"]),
        protected=row["protected"],
        requires=tuple(row["requires"]),
        position=row["position"],
        current_release_id=row["current_release_id"],
        current_version=row["current_version"],
        current_deployment_id=row["current_deployment_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _deployment_row(deployment: Deployment) -> dict[str, Any]:
    return {
        "id": deployment.id,
        "release_id": deployment.release_id,
        "release_name": deployment.release_name.value,
        "version": deployment.version.value,
        "environment": deployment.environment.value,
        "status": deployment.status.value,
        "message": deployment.message,
        "requested_by": deployment.requested_by,
        "created_at": deployment.created_at,
        "started_at": deployment.started_at,
        "finished_at": deployment.finished_at,
    }


def _deployment(row: Any) -> Deployment:
    return Deployment(
        id=row["id"],
        release_id=row["release_id"],
        release_name=ServiceName(row["release_name"]),
        version=SemVer(row["version"]),
        environment=EnvironmentName(row["environment"]),
        status=DeploymentStatus(row["status"]),
        message=row["message"],
        requested_by=row["requested_by"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )
