"""Contract of the releases context's ports (`ReleaseRepository`, `EnvironmentRepository`,
`DeploymentRepository`, `IdempotencyRepository`), identical on memory, SQLite and
Postgres: the rules the database must hold under concurrency included."""

import asyncio
from datetime import timedelta
from uuid import UUID

import pytest

from application.errors import (
    EnvironmentExistsError,
    IdempotencyKeyInUseError,
    ReleaseExistsError,
    ReleaseNotFoundError,
)
from application.ports.deployment_repository import DeploymentFilter
from application.ports.idempotency_repository import IdempotencyRecord
from application.ports.release_repository import ReleaseFilter
from domain.releases.deployment import Deployment, DeploymentStatus
from domain.releases.environment import Environment
from domain.releases.errors import EnvironmentBusyError
from domain.releases.release import Release, ReleaseStatus
from domain.releases.values import EnvironmentName, SemVer, ServiceName
from tests.contract.persistence import (
    PLUS_TWO,
    T0,
    Backend,
    assert_same_fields,
    backend_fixture,  # noqa: F401
    database_url_fixture,  # noqa: F401
    sequential_ids,
)


def make_release(release_id: UUID, name: str = "billing-api", version: str = "1.0.0") -> Release:
    release = Release.create(
        id=release_id,
        name=ServiceName(name),
        version=SemVer(version),
        notes="first cut",
        created_by=None,
        now=T0.astimezone(PLUS_TWO),
    )
    release.move_to(ReleaseStatus.READY, now=T0 + timedelta(seconds=1))
    return release


def make_environment(
    name: str, *, position: int = 1, requires: tuple[str, ...] = ()
) -> Environment:
    return Environment.create(
        name=EnvironmentName(name),
        protected=name == "production",
        requires=requires,
        existing=set(requires),
        position=position,
        now=T0,
    )


async def stored(backend: Backend, *things: object) -> None:
    async with backend.new_uow() as uow:
        for thing in things:
            if isinstance(thing, Release):
                await uow.releases.add(thing)
            elif isinstance(thing, Environment):
                await uow.environments.add(thing)
            elif isinstance(thing, Deployment):
                await uow.deployments.add(thing)
        await uow.commit()


def request(deployment_id: UUID, release: Release, environment: str) -> Deployment:
    return Deployment.request(
        id=deployment_id,
        release=release,
        environment=EnvironmentName(environment),
        requested_by=None,
        now=T0,
    )


async def test_releases_round_trip_and_list_newest_first(backend: Backend) -> None:
    ids = sequential_ids(3)
    releases = [
        make_release(ids[0]),
        make_release(ids[1], version="1.1.0"),
        make_release(ids[2], "other"),
    ]
    await stored(backend, *releases)
    async with backend.new_uow() as uow:
        loaded = await uow.releases.get(ids[0])
        newest = await uow.releases.list(filter=ReleaseFilter(), before=None, limit=10)
        page = await uow.releases.list(filter=ReleaseFilter(), before=ids[2], limit=1)
        named = await uow.releases.list(filter=ReleaseFilter(name="other"), before=None, limit=10)
        drafts = await uow.releases.list(
            filter=ReleaseFilter(status=ReleaseStatus.DRAFT), before=None, limit=10
        )
    assert loaded is not None
    assert_same_fields(releases[0], loaded)
    assert [r.id for r in newest] == [ids[2], ids[1], ids[0]]
    assert [r.id for r in page] == [ids[1]]
    assert [r.id for r in named] == [ids[2]]
    assert drafts == []


async def test_a_release_name_and_version_are_unique(backend: Backend) -> None:
    first, second = sequential_ids(2)
    await stored(backend, make_release(first))
    with pytest.raises(ReleaseExistsError):
        async with backend.new_uow() as uow:
            await uow.releases.add(make_release(second))
    await stored(backend, make_release(second, version="1.0.1"))


async def test_updates_are_kept_and_an_unknown_release_refused(backend: Backend) -> None:
    (release_id, unknown) = sequential_ids(2)
    release = make_release(release_id)
    await stored(backend, release)
    async with backend.new_uow() as uow:
        loaded = await uow.releases.get(release_id, for_update=True)
        assert loaded is not None
        loaded.move_to(ReleaseStatus.DEPRECATED, now=T0 + timedelta(minutes=1))
        loaded.change_notes(None, now=T0 + timedelta(minutes=1))
        await uow.releases.update(loaded)
        await uow.commit()
    async with backend.new_uow() as uow:
        again = await uow.releases.get(release_id)
        with pytest.raises(ReleaseNotFoundError):
            await uow.releases.update(make_release(unknown, version="7.0.0"))
    assert again is not None
    assert_same_fields(loaded, again)


async def test_environments_in_promotion_order_and_unique(backend: Backend) -> None:
    staging = make_environment("staging", position=1)
    production = make_environment("production", position=2, requires=("staging",))
    await stored(backend, production, staging)
    async with backend.new_uow() as uow:
        listed = await uow.environments.list()
        loaded = await uow.environments.get("production")
        assert await uow.environments.get("nowhere") is None
    assert [e.name.value for e in listed] == ["staging", "production"]
    assert loaded is not None
    assert_same_fields(production, loaded)
    with pytest.raises(EnvironmentExistsError):
        async with backend.new_uow() as uow:
            await uow.environments.add(make_environment("staging", position=3))


async def test_a_success_is_recorded_on_the_environment(backend: Backend) -> None:
    release_id, deployment_id = sequential_ids(2)
    release, staging = make_release(release_id), make_environment("staging")
    await stored(backend, release, staging)
    async with backend.new_uow() as uow:
        staging.now_running(
            release_id=release_id, version="1.0.0", deployment_id=deployment_id, now=T0
        )
        await uow.environments.update(staging)
        await uow.commit()
    async with backend.new_uow() as uow:
        loaded = await uow.environments.get("staging", for_update=True)
    assert loaded is not None
    assert_same_fields(staging, loaded)


async def test_deployments_round_trip_filter_and_know_where_a_release_succeeded(
    backend: Backend,
) -> None:
    release_id, first_id, second_id = sequential_ids(3)
    release = make_release(release_id)
    await stored(backend, release, make_environment("staging"), make_environment("qa", position=2))
    first = request(first_id, release, "staging")
    await stored(backend, first)
    async with backend.new_uow() as uow:
        first.move_to(DeploymentStatus.IN_PROGRESS, message=None, now=T0 + timedelta(seconds=5))
        first.move_to(DeploymentStatus.SUCCEEDED, message="done", now=T0 + timedelta(seconds=9))
        await uow.deployments.update(first)
        await uow.commit()
    second = request(second_id, release, "qa")
    await stored(backend, second)

    async with backend.new_uow() as uow:
        loaded = await uow.deployments.get(first_id)
        newest = await uow.deployments.list(filter=DeploymentFilter(), before=None, limit=10)
        in_qa = await uow.deployments.list(
            filter=DeploymentFilter(environment="qa"), before=None, limit=10
        )
        done = await uow.deployments.list(
            filter=DeploymentFilter(status=DeploymentStatus.SUCCEEDED, release_id=release_id),
            before=None,
            limit=10,
        )
        older = await uow.deployments.list(filter=DeploymentFilter(), before=second_id, limit=10)
        succeeded = await uow.deployments.succeeded_environments(release_id)
    assert loaded is not None
    assert_same_fields(first, loaded)
    assert [d.id for d in newest] == [second_id, first_id]
    assert [d.id for d in in_qa] == [second_id]
    assert [d.id for d in done] == [first_id]
    assert [d.id for d in older] == [first_id]
    assert succeeded == {"staging"}


async def test_one_active_deployment_per_environment(backend: Backend) -> None:
    release_id, first_id, second_id, third_id = sequential_ids(4)
    release = make_release(release_id)
    await stored(backend, release, make_environment("staging"), make_environment("qa", position=2))
    first = request(first_id, release, "staging")
    await stored(backend, first)
    with pytest.raises(EnvironmentBusyError):
        async with backend.new_uow() as uow:
            await uow.deployments.add(request(second_id, release, "staging"))
    await stored(backend, request(third_id, release, "qa"))  # another environment is free
    async with backend.new_uow() as uow:
        first.move_to(DeploymentStatus.CANCELLED, message=None, now=T0)
        await uow.deployments.update(first)
        await uow.commit()
    await stored(backend, request(second_id, release, "staging"))  # freed


async def test_concurrent_requests_for_one_environment_leave_one_deployment(
    backend: Backend,
) -> None:
    ids = sequential_ids(9)
    release = make_release(ids[0])
    await stored(backend, release, make_environment("staging"))

    async def attempt(deployment_id: UUID) -> str:
        try:
            await stored(backend, request(deployment_id, release, "staging"))
        except EnvironmentBusyError:
            return "busy"
        return "created"

    outcomes = await asyncio.gather(*(attempt(i) for i in ids[1:]))
    assert sorted(outcomes) == ["busy"] * 7 + ["created"]


async def test_idempotency_records_are_unique_until_they_expire(backend: Backend) -> None:
    (resource,) = sequential_ids(1)
    record = IdempotencyRecord(
        scope="u:create_release",
        key="k-1",
        fingerprint="f" * 64,
        status=201,
        resource_id=resource,
        created_at=T0.astimezone(PLUS_TWO),
    )
    day = timedelta(hours=24)
    async with backend.new_uow() as uow:
        await uow.idempotency.add(record, not_before=T0 - day)
        await uow.commit()
    async with backend.new_uow() as uow:
        found = await uow.idempotency.get("u:create_release", "k-1", not_before=T0 - day)
        other_scope = await uow.idempotency.get("v:create_release", "k-1", not_before=T0 - day)
        expired = await uow.idempotency.get(
            "u:create_release", "k-1", not_before=T0 + timedelta(seconds=1)
        )
    assert found is not None
    assert (found.fingerprint, found.resource_id, found.status) == ("f" * 64, resource, 201)
    assert found.created_at == T0
    assert other_scope is None
    assert expired is None
    with pytest.raises(IdempotencyKeyInUseError):
        async with backend.new_uow() as uow:
            await uow.idempotency.add(record, not_before=T0 - day)
    # Once expired, the key can be used again.
    later = IdempotencyRecord(
        scope=record.scope,
        key=record.key,
        fingerprint="e" * 64,
        status=201,
        resource_id=resource,
        created_at=T0 + 2 * day,
    )
    async with backend.new_uow() as uow:
        await uow.idempotency.add(later, not_before=T0 + day)
        await uow.commit()
    async with backend.new_uow() as uow:
        pruned = await uow.idempotency.prune(before=T0 + 3 * day, limit=10)
        await uow.commit()
    assert pruned == 1
