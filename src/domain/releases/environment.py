"""Environments, in promotion order, and what runs in each."""

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.common.aggregate import Aggregate
from domain.common.errors import InvalidValueError
from domain.releases.errors import PromotionRuleError
from domain.releases.events import EnvironmentCreated
from domain.releases.values import EnvironmentName

REQUIRES_MAX = 20


@dataclass(eq=False, kw_only=True)
class Environment(Aggregate):
    """`requires`: environments a release must have succeeded in before it may come
    here. They exist when this one is created, so creation order is a promotion order
    (`position` keeps it). `current_*` follow the last deployment that succeeded."""

    name: EnvironmentName
    protected: bool
    requires: tuple[str, ...]
    position: int
    created_at: datetime
    updated_at: datetime
    current_release_id: UUID | None = None
    current_version: str | None = None
    current_deployment_id: UUID | None = None
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Environment) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    @classmethod
    def create(
        cls,
        *,
        name: EnvironmentName,
        protected: bool,
        requires: Collection[str],
        existing: Collection[str],
        position: int,
        now: datetime,
    ) -> "Environment":
        """`existing`: the names of the environments there are; each requirement must be
        one of them (so requirements never form a cycle)."""
        wanted = tuple(sorted({EnvironmentName(r, field="requires").value for r in requires}))
        if len(wanted) > REQUIRES_MAX:
            raise InvalidValueError(
                f"at most {REQUIRES_MAX} required environments", field="requires"
            )
        if name.value in wanted:
            raise InvalidValueError("an environment cannot require itself", field="requires")
        unknown = [r for r in wanted if r not in existing]
        if unknown:
            raise InvalidValueError(
                f"unknown required environment: {', '.join(unknown)}", field="requires"
            )
        environment = cls(
            name=name,
            protected=protected,
            requires=wanted,
            position=position,
            created_at=now,
            updated_at=now,
        )
        environment.record(EnvironmentCreated(occurred_at=now, environment=name.value))
        return environment

    def admit(self, release_label: str, succeeded_in: Collection[str]) -> None:
        """Promotion: a release comes here only after it succeeded in every environment
        this one requires."""
        missing = [r for r in self.requires if r not in succeeded_in]
        if missing:
            raise PromotionRuleError(
                f"rule promotion-order: {release_label} must first succeed in "
                f"{', '.join(missing)} before it can be deployed to {self.name}"
            )

    def now_running(
        self, *, release_id: UUID, version: str, deployment_id: UUID, now: datetime
    ) -> None:
        self.current_release_id = release_id
        self.current_version = version
        self.current_deployment_id = deployment_id
        self.updated_at = now
