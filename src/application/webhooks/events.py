"""How webhook events leave the service (see `application.events.catalog`): operators'
business, topic `system`, audited and relayed, never offered to live clients or to
webhooks themselves."""

from application.events.catalog import SYSTEM, EventSpec, EventTable, fields
from domain.webhooks.events import WebhookCreated, WebhookDeleted, WebhookDisabled, WebhookUpdated

# As `GET /webhooks/{id}` shows it (the secret never).
WEBHOOK = fields("id", "url", "events", "description", "active", "created_at")


def _webhook(name: str) -> EventSpec:
    return EventSpec(
        name=name,
        topic=SYSTEM,
        subject=lambda e: e.webhook_id,
        account=lambda e: e.owner_id,
        view=WEBHOOK,
    )


WEBHOOK_EVENTS: EventTable = {
    WebhookCreated: _webhook("webhook.created"),
    WebhookUpdated: _webhook("webhook.updated"),
    WebhookDeleted: EventSpec(
        name="webhook.deleted",
        topic=SYSTEM,
        subject=lambda e: e.webhook_id,
        account=lambda e: e.owner_id,
        view=fields("id"),
    ),
    WebhookDisabled: _webhook("webhook.disabled"),
}
