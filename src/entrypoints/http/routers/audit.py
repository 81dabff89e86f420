"""`/api/v1/audit-events`: the audit trail, read-only."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from application.audit.use_cases.list_audit_events import AuditQuery, ListAuditEvents
from entrypoints.http.dependencies import CurrentPrincipal, container_of, use_case
from entrypoints.http.errors import error_responses
from entrypoints.http.schemas.access import AuditEventOut, AuditPageOut
from entrypoints.http.schemas.common import DateTimeField

router = APIRouter(prefix="/api/v1/audit-events", tags=["audit"])


@router.get(
    "", responses=error_responses(400, 401, 403, 422, 503), description=ListAuditEvents.__doc__
)
async def list_audit_events(
    request: Request,
    principal: CurrentPrincipal,
    list_events: Annotated[ListAuditEvents, use_case(lambda c: c.list_audit_events)],
    actor: UUID | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    target: Annotated[str | None, Query(max_length=64)] = None,
    since: DateTimeField | None = None,
    until: DateTimeField | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> AuditPageOut:
    codec = container_of(request).cursor_codec()
    scope = {
        "actor": str(actor) if actor else None,
        "action": action,
        "target": target,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }
    page = await list_events.execute(
        principal,
        AuditQuery(
            actor_id=actor,
            action=action,
            target_id=target,
            since=since,
            until=until,
            limit=limit,
            after=codec.decode(cursor, scope) if cursor else None,
        ),
    )
    return AuditPageOut(
        items=[AuditEventOut.of(e) for e in page.items],
        next_cursor=codec.encode(page.next_after, scope) if page.next_after else None,
        limit=limit,
    )
