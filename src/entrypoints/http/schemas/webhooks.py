from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field

from domain.webhooks.webhooks import Webhook, WebhookDelivery
from entrypoints.http.schemas.users import PRINTABLE, Input

UrlField = Annotated[
    str,
    Field(
        max_length=2048,
        pattern=r"^https?://[^\s/?#@]+(/[^\s]*)?$",
        examples=["https://hooks.example.com/hexahub"],
        description="Where deliveries are POSTed. Refused (422) when its host resolves to "
        "a loopback, private, link-local or reserved address, or does not resolve, unless "
        "`WEBHOOK_ALLOW_PRIVATE_TARGETS=true`; https only in production.",
    ),
]
EventNameField = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)+)$")
]
EventNames = Annotated[
    list[EventNameField],
    Field(
        min_length=1,
        max_length=100,
        examples=[["user.created", "deployment.status_changed"], ["*"]],
        description='Event names (`user.updated`, …), or `"*"` for every event.',
    ),
]
DescriptionField = Annotated[str, Field(max_length=500, pattern=PRINTABLE)]


class WebhookCreateIn(Input):
    url: UrlField
    events: EventNames
    description: DescriptionField | None = None


class WebhookUpdateIn(Input):
    url: UrlField | None = None
    events: EventNames | None = None
    description: DescriptionField | None = None
    active: bool | None = None


class WebhookOut(BaseModel):
    id: UUID
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, webhook: Webhook) -> "WebhookOut":
        return cls(
            id=webhook.id,
            url=webhook.url,
            events=list(webhook.events),
            description=webhook.description,
            active=webhook.active,
            created_at=webhook.created_at,
        )


class WebhookCreatedOut(WebhookOut):
    """The only time the secret is shown."""

    secret: str = Field(description="`whsec_…`: verify each delivery's `webhook-signature`.")


class WebhookListOut(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: UUID
    event_id: UUID
    event: str
    attempt: int
    status_code: int | None
    outcome: str = Field(description="`pending`, `retrying`, `succeeded` or `failed`.")
    created_at: datetime
    next_attempt_at: datetime | None

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> "DeliveryOut":
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            event=delivery.event,
            attempt=delivery.attempt,
            status_code=delivery.status_code,
            outcome=delivery.outcome.value,
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at,
        )


class DeliveryPageOut(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
    limit: int
