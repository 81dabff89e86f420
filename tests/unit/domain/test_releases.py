"""The releases context's domain rules: names, versions and both state machines."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.common.errors import InvalidValueError
from domain.releases.deployment import Deployment, DeploymentStatus
from domain.releases.environment import Environment
from domain.releases.errors import (
    IllegalStatusMoveError,
    InvalidServiceNameError,
    InvalidVersionError,
    PromotionRuleError,
    ReleaseNotDeployableError,
)
from domain.releases.events import DeploymentStatusChanged, ReleaseStatusChanged
from domain.releases.release import Release, ReleaseStatus
from domain.releases.values import EnvironmentName, SemVer, ServiceName

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "version",
    ["0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7",
     "1.0.0-x.7.z.92", "1.0.0+20130313144700", "1.0.0-beta+exp.sha.5114f85", "1.0.0-rc.1+b.7"],
)  # fmt: skip
def test_semver_accepts_what_semver_org_allows(version: str) -> None:
    assert SemVer(version).value == version


@pytest.mark.parametrize(
    "version",
    ["1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3+", "1.2.3-01",
     "v1.2.3", " 1.2.3", "1.2.3-a..b", "\u0661.2.3", "1.2.3-" + "a" * 130],
)  # fmt: skip
def test_semver_refuses_the_rest_naming_the_field(version: str) -> None:
    with pytest.raises(InvalidVersionError) as refused:
        SemVer(version)
    assert refused.value.field == "version"


@pytest.mark.parametrize("name", ["a", "billing-api", "0day", "a" * 63])
def test_service_names(name: str) -> None:
    assert ServiceName(name).value == name


@pytest.mark.parametrize("name", ["", "-a", "A", "a_b", "a" * 64, "a b", "é"])
def test_bad_service_names_name_the_field(name: str) -> None:
    with pytest.raises(InvalidServiceNameError) as refused:
        ServiceName(name)
    assert refused.value.field == "name"


def release(status: ReleaseStatus = ReleaseStatus.DRAFT) -> Release:
    made = Release.create(
        id=uuid.uuid4(),
        name=ServiceName("billing"),
        version=SemVer("1.0.0"),
        notes=None,
        created_by=None,
        now=NOW,
    )
    if status != ReleaseStatus.DRAFT:
        made.move_to(status, now=NOW)
    made.pull_events()
    return made


@pytest.mark.parametrize(
    ("start", "end", "legal"),
    [
        (ReleaseStatus.DRAFT, ReleaseStatus.READY, True),
        (ReleaseStatus.DRAFT, ReleaseStatus.DEPRECATED, True),
        (ReleaseStatus.READY, ReleaseStatus.DEPRECATED, True),
        (ReleaseStatus.READY, ReleaseStatus.DRAFT, False),
        (ReleaseStatus.DEPRECATED, ReleaseStatus.READY, False),
        (ReleaseStatus.DEPRECATED, ReleaseStatus.DRAFT, False),
    ],
)
def test_release_moves(start: ReleaseStatus, end: ReleaseStatus, legal: bool) -> None:
    subject = release(start)
    if not legal:
        with pytest.raises(IllegalStatusMoveError, match="rule release-status"):
            subject.move_to(end, now=NOW)
        assert subject.status == start
        return
    subject.move_to(end, now=NOW + timedelta(seconds=1))
    assert subject.status == end
    assert subject.updated_at == NOW + timedelta(seconds=1)
    [event] = subject.pull_events()
    assert isinstance(event, ReleaseStatusChanged)
    assert (event.previous, event.status) == (start.value, end.value)


def test_staying_put_is_no_move_and_no_event() -> None:
    subject = release(ReleaseStatus.READY)
    subject.move_to(ReleaseStatus.READY, now=NOW)
    assert subject.pull_events() == []


@pytest.mark.parametrize("status", [ReleaseStatus.DRAFT, ReleaseStatus.DEPRECATED])
def test_only_a_ready_release_is_deployed(status: ReleaseStatus) -> None:
    with pytest.raises(ReleaseNotDeployableError, match="deploy-ready-only"):
        Deployment.request(
            id=uuid.uuid4(),
            release=release(status),
            environment=EnvironmentName("staging"),
            requested_by=None,
            now=NOW,
        )


def deployment() -> Deployment:
    return Deployment.request(
        id=uuid.uuid4(),
        release=release(ReleaseStatus.READY),
        environment=EnvironmentName("staging"),
        requested_by=None,
        now=NOW,
    )


def test_a_deployment_runs_and_records_its_duration() -> None:
    subject = deployment()
    assert subject.active
    subject.move_to(DeploymentStatus.IN_PROGRESS, message=None, now=NOW + timedelta(seconds=10))
    subject.move_to(DeploymentStatus.SUCCEEDED, message="ok", now=NOW + timedelta(seconds=70))
    assert not subject.active
    assert (subject.started_at, subject.finished_at) == (
        NOW + timedelta(seconds=10),
        NOW + timedelta(seconds=70),
    )
    assert subject.message == "ok"
    events = [e for e in subject.pull_events() if isinstance(e, DeploymentStatusChanged)]
    assert [e.duration_seconds for e in events] == [None, 60.0]


@pytest.mark.parametrize(
    "path",
    [
        [DeploymentStatus.SUCCEEDED],
        [DeploymentStatus.FAILED],
        [DeploymentStatus.PENDING],
        [DeploymentStatus.IN_PROGRESS, DeploymentStatus.CANCELLED],
        [DeploymentStatus.IN_PROGRESS, DeploymentStatus.PENDING],
        [DeploymentStatus.CANCELLED, DeploymentStatus.IN_PROGRESS],
        [DeploymentStatus.IN_PROGRESS, DeploymentStatus.FAILED, DeploymentStatus.SUCCEEDED],
    ],
)
def test_illegal_deployment_moves(path: list[DeploymentStatus]) -> None:
    subject = deployment()
    *legal, last = path
    for status in legal:
        subject.move_to(status, message=None, now=NOW)
    with pytest.raises(IllegalStatusMoveError, match="rule deployment-status"):
        subject.move_to(last, message=None, now=NOW)


def test_promotion_needs_success_in_every_required_environment() -> None:
    production = Environment.create(
        name=EnvironmentName("production"),
        protected=True,
        requires=["staging", "qa"],
        existing={"staging", "qa"},
        position=3,
        now=NOW,
    )
    assert production.requires == ("qa", "staging")
    with pytest.raises(PromotionRuleError, match="qa, staging"):
        production.admit("billing@1.0.0", set())
    with pytest.raises(PromotionRuleError, match="qa"):
        production.admit("billing@1.0.0", {"staging"})
    production.admit("billing@1.0.0", {"staging", "qa", "dev"})


@pytest.mark.parametrize("requires", [["nowhere"], ["production"], ["Bad"]])
def test_requirements_must_exist_and_not_be_itself(requires: list[str]) -> None:
    with pytest.raises(InvalidValueError) as refused:
        Environment.create(
            name=EnvironmentName("production"),
            protected=False,
            requires=requires,
            existing={"staging", "production"},
            position=2,
            now=NOW,
        )
    assert refused.value.field == "requires"
