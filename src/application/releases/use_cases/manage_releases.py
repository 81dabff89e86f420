"""Releases: create, read, list, move along their status."""

from dataclasses import dataclass
from uuid import UUID

from application.common.security import Principal
from application.common.use_case import Transactional
from application.errors import ReleaseNotFoundError
from application.ports.id_generator import IdGenerator
from application.ports.release_repository import ReleaseFilter
from application.ports.unit_of_work import UnitOfWork
from application.ports.unit_of_work_factory import TransactionFactory
from application.releases.cache import ReleaseCache
from application.releases.idempotency import IdempotencyKey, create_once
from application.releases.paging import Page, newest_first
from domain.access.permissions import Permission
from domain.common.errors import InvalidValueError
from domain.releases.release import Release, ReleaseStatus
from domain.releases.values import SemVer, ServiceName


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateReleaseCommand:
    name: str
    version: str
    notes: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateRelease(Transactional):
    """Record a release of a service (`releases:write`), as a draft.

    `name` is a service name (`^[a-z0-9][a-z0-9-]{0,62}$`) and `version` SemVer 2.0.0
    (422 otherwise); a name and version that exist are a 409, also when created
    concurrently. With an `Idempotency-Key`, a retry with the same body returns the first
    answer and creates nothing; the same key with another body is a 422."""

    ids: IdGenerator

    async def execute(self, principal: Principal, command: CreateReleaseCommand) -> Release:
        principal.require(Permission.RELEASES_WRITE)
        name, version = ServiceName(command.name), SemVer(command.version)
        body = {"name": command.name, "version": command.version, "notes": command.notes}
        key = IdempotencyKey.of(principal, "create_release", command.idempotency_key, body)
        now = self.clock.now()

        async def create(uow: UnitOfWork) -> Release:
            release = Release.create(
                id=self.ids.new_id(),
                name=name,
                version=version,
                notes=command.notes,
                created_by=principal.actor_id,
                now=now,
            )
            await uow.releases.add(release)
            return release

        return await create_once(
            self.uow_factory,
            key,
            now,
            create=create,
            find=lambda tx, id: tx.releases.get(id),
            id_of=lambda release: release.id,
            actor_id=principal.actor_id,
        )


@dataclass(frozen=True, slots=True)
class GetRelease:
    """One release (`releases:read`), read through the cache."""

    cache: ReleaseCache

    async def execute(self, principal: Principal, release_id: UUID) -> Release:
        principal.require(Permission.RELEASES_READ)
        release = await self.cache.release(release_id)
        if release is None:
            raise ReleaseNotFoundError()
        return release


@dataclass(frozen=True, slots=True, kw_only=True)
class ListReleasesQuery:
    limit: int = 20
    before: UUID | None = None
    name: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class ListReleases:
    """Releases newest first (`releases:read`), by service name and status; `limit`
    1..100, keyset pagination."""

    reads: TransactionFactory

    async def execute(self, principal: Principal, query: ListReleasesQuery) -> Page[Release]:
        principal.require(Permission.RELEASES_READ)
        name = ServiceName(query.name).value if query.name else None
        wanted = ReleaseFilter(name=name, status=_status(query.status) if query.status else None)

        async def read(limit: int) -> list[Release]:
            async with self.reads() as tx:
                return await tx.releases.list(filter=wanted, before=query.before, limit=limit)

        return await newest_first(query.limit, read)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeReleaseCommand:
    status: str | None = None
    notes: str | None = None
    clear_notes: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeRelease(Transactional):
    """Move a release along its status or edit its notes (`releases:write`).

    Status moves: draft -> ready, ready -> deprecated, draft -> deprecated; any other is
    a 409 naming the rule. Asking for the status it has changes nothing."""

    async def execute(
        self, principal: Principal, release_id: UUID, command: ChangeReleaseCommand
    ) -> Release:
        principal.require(Permission.RELEASES_WRITE)
        status = _status(command.status) if command.status is not None else None
        now = self.clock.now()
        async with self.uow_factory() as uow:
            release = await uow.releases.get(release_id, for_update=True)
            if release is None:
                raise ReleaseNotFoundError()
            if status is not None:
                release.move_to(status, now=now)
            if command.notes is not None or command.clear_notes:
                release.change_notes(command.notes, now=now)
            await uow.releases.update(release)
            await uow.commit(actor_id=principal.actor_id)
        return release


def _status(raw: str) -> ReleaseStatus:
    try:
        return ReleaseStatus(raw)
    except ValueError:
        raise InvalidValueError(
            "status must be draft, ready or deprecated", field="status"
        ) from None
