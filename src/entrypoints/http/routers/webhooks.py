"""`/api/v1/webhooks`: signed deliveries of committed events (`webhooks:manage`)."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from application.webhooks.use_cases.manage_webhooks import (
    CreateWebhook,
    CreateWebhookCommand,
    DeleteWebhook,
    GetWebhook,
    ListWebhookDeliveries,
    ListWebhooks,
    UpdateWebhook,
    UpdateWebhookCommand,
)
from entrypoints.http.dependencies import CurrentPrincipal, container_of, require_json, use_case
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.webhooks import (
    DeliveryOut,
    DeliveryPageOut,
    WebhookCreatedOut,
    WebhookCreateIn,
    WebhookListOut,
    WebhookOut,
    WebhookUpdateIn,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(require_json)],
    responses=error_responses(401, 403, 415, 422, 503),
    description=CreateWebhook.__doc__,
)
async def create_webhook(
    body: WebhookCreateIn,
    response: Response,
    principal: CurrentPrincipal,
    create: Annotated[CreateWebhook, use_case(lambda c: c.create_webhook)],
) -> WebhookCreatedOut:
    webhook = await create.execute(
        principal,
        CreateWebhookCommand(url=body.url, events=body.events, description=body.description),
    )
    response.headers["Cache-Control"] = "no-store"
    return WebhookCreatedOut(**WebhookOut.of(webhook).model_dump(), secret=webhook.secret)


@router.get("", responses=error_responses(401, 403, 503), description=ListWebhooks.__doc__)
async def list_webhooks(
    principal: CurrentPrincipal,
    list_all: Annotated[ListWebhooks, use_case(lambda c: c.list_webhooks)],
) -> WebhookListOut:
    return WebhookListOut(items=[WebhookOut.of(w) for w in await list_all.execute(principal)])


@router.get("/{webhook_id}", responses=error_responses(401, 403, 404, 422, 503))
async def get_webhook(
    webhook_id: UUID,
    principal: CurrentPrincipal,
    get: Annotated[GetWebhook, use_case(lambda c: c.get_webhook)],
) -> WebhookOut:
    return WebhookOut.of(await get.execute(principal, webhook_id))


@router.patch(
    "/{webhook_id}",
    dependencies=[Depends(require_json)],
    responses=error_responses(401, 403, 404, 415, 422, 503),
    description=UpdateWebhook.__doc__,
)
async def update_webhook(
    webhook_id: UUID,
    body: WebhookUpdateIn,
    principal: CurrentPrincipal,
    update: Annotated[UpdateWebhook, use_case(lambda c: c.update_webhook)],
) -> WebhookOut:
    # null clears a description; for the other fields it means "unchanged".
    changes = {
        name: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if value is not None or name == "description"
    }
    webhook = await update.execute(
        principal, UpdateWebhookCommand(webhook_id=webhook_id, changes=changes)
    )
    return WebhookOut.of(webhook)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422, 503),
    description=DeleteWebhook.__doc__,
)
async def delete_webhook(
    webhook_id: UUID,
    principal: CurrentPrincipal,
    delete: Annotated[DeleteWebhook, use_case(lambda c: c.delete_webhook)],
) -> None:
    await delete.execute(principal, webhook_id)


@router.get(
    "/{webhook_id}/deliveries",
    responses=error_responses(400, 401, 403, 404, 422, 503),
    description=ListWebhookDeliveries.__doc__,
)
async def list_webhook_deliveries(
    request: Request,
    webhook_id: UUID,
    principal: CurrentPrincipal,
    list_deliveries: Annotated[
        ListWebhookDeliveries, use_case(lambda c: c.list_webhook_deliveries)
    ],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DeliveryPageOut:
    codec = container_of(request).cursor_codec()
    scope = {"webhook": str(webhook_id)}
    items = await list_deliveries.execute(
        principal,
        webhook_id,
        limit=limit + 1,
        before=codec.decode(cursor, scope) if cursor else None,
    )
    page, more = items[:limit], len(items) > limit
    return DeliveryPageOut(
        items=[DeliveryOut.of(d) for d in page],
        next_cursor=codec.encode(page[-1].id, scope) if more else None,
        limit=limit,
    )
