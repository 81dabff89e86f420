"""Links between a local account and an account at an external OpenID provider."""

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.common.aggregate import Aggregate
from domain.signin.events import ExternalIdentityLinked, ExternalIdentityUnlinked


@dataclass(eq=False, kw_only=True)
class ExternalIdentity(Aggregate):
    """The provider's subject (`sub`, stable per provider) signs in as `user_id`. The
    email is what the provider said when the link was made, for the person to
    recognise it; it never decides who signs in."""

    provider: str
    subject: str
    user_id: UUID
    email: str | None
    linked_at: datetime
    _events: list = field(default_factory=list, repr=False)  # type: ignore[type-arg]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExternalIdentity) and (other.provider, other.subject) == (
            self.provider,
            self.subject,
        )

    def __hash__(self) -> int:
        return hash((self.provider, self.subject))

    @classmethod
    def link(
        cls,
        *,
        provider: str,
        subject: str,
        user_id: UUID,
        email: str | None,
        now: datetime,
        how: str,
    ) -> "ExternalIdentity":
        identity = cls(
            provider=provider, subject=subject, user_id=user_id, email=email, linked_at=now
        )
        identity.record(
            ExternalIdentityLinked(occurred_at=now, user_id=user_id, provider=provider, how=how)
        )
        return identity

    def unlink(self, *, now: datetime) -> None:
        self.record(
            ExternalIdentityUnlinked(occurred_at=now, user_id=self.user_id, provider=self.provider)
        )
