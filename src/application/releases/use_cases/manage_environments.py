"""Environments: where releases run, in promotion order."""

from dataclasses import dataclass

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import EnvironmentNotFoundError
from application.releases.cache import ReleaseCache
from domain.access.permissions import Permission
from domain.releases.environment import Environment
from domain.releases.values import EnvironmentName


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateEnvironmentCommand:
    name: str
    protected: bool = False
    requires: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateEnvironment(Transactional):
    """Add an environment (`environments:manage`). `requires` names environments that
    exist: a release reaches this one only after it succeeded in each of them. A
    protected environment also needs `deployments:protected` to deploy to. A taken name
    is a 409."""

    async def execute(self, principal: Principal, command: CreateEnvironmentCommand) -> Environment:
        principal.require(Permission.ENVIRONMENTS_MANAGE)
        name = EnvironmentName(command.name, field="name")
        now = self.clock.now()
        async with self.uow_factory() as uow:
            existing = await uow.environments.list()
            environment = Environment.create(
                name=name,
                protected=command.protected,
                requires=command.requires,
                existing={e.name.value for e in existing},
                position=max((e.position for e in existing), default=0) + 1,
                now=now,
            )
            await uow.environments.add(environment)
            await uow.commit(actor_id=principal.actor_id)
        return environment


@dataclass(frozen=True, slots=True)
class ListEnvironments:
    """Every environment in promotion order (`releases:read`), read through the cache."""

    cache: ReleaseCache

    async def execute(self, principal: Principal) -> list[Environment]:
        principal.require(Permission.RELEASES_READ)
        return await self.cache.environments()


@dataclass(frozen=True, slots=True)
class GetEnvironment:
    """One environment (`releases:read`), with the release that last succeeded there."""

    cache: ReleaseCache

    async def execute(self, principal: Principal, name: str) -> Environment:
        principal.require(Permission.RELEASES_READ)
        for environment in await self.cache.environments():
            if environment.name.value == name:
                return environment
        raise EnvironmentNotFoundError()
