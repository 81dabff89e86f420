"""Deployments: a release going to an environment, and how it went."""

from dataclasses import dataclass
from uuid import UUID

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import (
    DeploymentNotFoundError,
    EnvironmentNotFoundError,
    ReleaseNotFoundError,
)
from application.ports.deployment_repository import DeploymentFilter
from application.ports.id_generator import IdGenerator
from application.ports.unit_of_work import UnitOfWork
from application.ports.unit_of_work_factory import TransactionFactory
from application.releases.idempotency import IdempotencyKey, create_once
from application.releases.paging import Page, newest_first
from domain.access.permissions import Permission
from domain.common.errors import InvalidValueError
from domain.releases.deployment import Deployment, DeploymentStatus
from domain.releases.environment import Environment
from domain.releases.values import EnvironmentName


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateDeploymentCommand:
    release_id: UUID
    environment: str
    idempotency_key: str | None = None


def _allowed_to_deploy(principal: Principal, environment: Environment) -> None:
    principal.require(Permission.DEPLOYMENTS_WRITE)
    if environment.protected:
        principal.require(Permission.DEPLOYMENTS_PROTECTED)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateDeployment(Transactional):
    """Deploy a release to an environment (`deployments:write`; a protected environment
    also needs `deployments:protected`), as `pending`.

    Rules, each a 409 naming it: only a `ready` release is deployed; an environment has
    at most one deployment pending or in progress (the database decides between
    concurrent requests: exactly one wins); a release reaches an environment only after
    it succeeded in every environment that one requires. An unknown release or
    environment is a 404. `Idempotency-Key` as for releases."""

    ids: IdGenerator

    async def execute(self, principal: Principal, command: CreateDeploymentCommand) -> Deployment:
        principal.require(Permission.DEPLOYMENTS_WRITE)
        name = EnvironmentName(command.environment)
        body = {"release_id": str(command.release_id), "environment": command.environment}
        key = IdempotencyKey.of(principal, "create_deployment", command.idempotency_key, body)
        now = self.clock.now()

        async def create(uow: UnitOfWork) -> Deployment:
            release = await uow.releases.get(command.release_id)
            if release is None:
                raise ReleaseNotFoundError()
            environment = await uow.environments.get(name.value)
            if environment is None:
                raise EnvironmentNotFoundError()
            _allowed_to_deploy(principal, environment)
            deployment = Deployment.request(
                id=self.ids.new_id(),
                release=release,
                environment=name,
                requested_by=principal.actor_id,
                now=now,
            )
            environment.admit(
                f"{release.name}@{release.version}",
                await uow.deployments.succeeded_environments(release.id),
            )
            await uow.deployments.add(deployment)  # EnvironmentBusyError when held
            return deployment

        return await create_once(
            self.uow_factory,
            key,
            now,
            create=create,
            find=lambda tx, id: tx.deployments.get(id),
            id_of=lambda deployment: deployment.id,
            actor_id=principal.actor_id,
        )


@dataclass(frozen=True, slots=True)
class GetDeployment:
    """One deployment (`releases:read`)."""

    reads: TransactionFactory

    async def execute(self, principal: Principal, deployment_id: UUID) -> Deployment:
        principal.require(Permission.RELEASES_READ)
        async with self.reads() as tx:
            deployment = await tx.deployments.get(deployment_id)
        if deployment is None:
            raise DeploymentNotFoundError()
        return deployment


@dataclass(frozen=True, slots=True, kw_only=True)
class ListDeploymentsQuery:
    limit: int = 20
    before: UUID | None = None
    environment: str | None = None
    release_id: UUID | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class ListDeployments:
    """Deployments newest first (`releases:read`), by environment, release and status;
    `limit` 1..100, keyset pagination."""

    reads: TransactionFactory

    async def execute(self, principal: Principal, query: ListDeploymentsQuery) -> Page[Deployment]:
        principal.require(Permission.RELEASES_READ)
        wanted = DeploymentFilter(
            environment=EnvironmentName(query.environment).value if query.environment else None,
            release_id=query.release_id,
            status=_status(query.status) if query.status else None,
        )

        async def read(limit: int) -> list[Deployment]:
            async with self.reads() as tx:
                return await tx.deployments.list(filter=wanted, before=query.before, limit=limit)

        return await newest_first(query.limit, read)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeDeploymentCommand:
    status: str
    message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeDeployment(Transactional):
    """Report how a deployment goes (`deployments:write`; `deployments:protected` too on
    a protected environment). Moves: pending -> in_progress | cancelled, in_progress ->
    succeeded | failed; any other is a 409 naming the rule. A success makes the release
    the environment's current one."""

    async def execute(
        self, principal: Principal, deployment_id: UUID, command: ChangeDeploymentCommand
    ) -> Deployment:
        principal.require(Permission.DEPLOYMENTS_WRITE)
        status = _status(command.status)
        now = self.clock.now()
        async with self.uow_factory() as uow:
            deployment = await uow.deployments.get(deployment_id, for_update=True)
            if deployment is None:
                raise DeploymentNotFoundError()
            environment = await uow.environments.get(deployment.environment.value, for_update=True)
            if environment is None:  # environments are never deleted
                raise EnvironmentNotFoundError()
            _allowed_to_deploy(principal, environment)
            deployment.move_to(status, message=command.message, now=now)
            await uow.deployments.update(deployment)
            if deployment.status == DeploymentStatus.SUCCEEDED:
                environment.now_running(
                    release_id=deployment.release_id,
                    version=deployment.version.value,
                    deployment_id=deployment.id,
                    now=now,
                )
                await uow.environments.update(environment)
            await uow.commit(actor_id=principal.actor_id)
        return deployment


def _status(raw: str) -> DeploymentStatus:
    try:
        return DeploymentStatus(raw)
    except ValueError:
        raise InvalidValueError(
            "status must be pending, in_progress, succeeded, failed or cancelled", field="status"
        ) from None
