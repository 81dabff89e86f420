"""Live events: `GET /api/v1/events` (WebSocket) and `GET /api/v1/events/stream` (SSE).

The protocol is the contract's ("Live events" in the API document, summed up in the
README); the hub (`application.live.hub`) decides what each connection receives. Both
routes stay out of the OpenAPI document: OpenAPI cannot describe a WebSocket, and a
stream that never ends is no operation a conformance run could call.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import APIRouter, Header, Query, Request, WebSocket
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect, WebSocketState

from adapters.metrics.live import count_delivered, count_dropped, live_connections
from application.common.security import Principal
from application.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from application.live.hub import (
    Ended,
    LiveHub,
    ResumeExpiredError,
    Subscription,
    TooManyConnectionsError,
)
from application.ports.event_outbox import OutboxEvent
from domain.common.errors import InvalidValueError
from entrypoints.container import Container
from entrypoints.http.dependencies import CurrentPrincipal, authenticate, container_of

log = structlog.get_logger()

router = APIRouter(prefix="/api/v1/events")

AUTH_TIMEOUT_SECONDS = 10.0
"""Browsers cannot set headers on a WebSocket: they authenticate with a first message."""
SEND_TIMEOUT_SECONDS = 10.0
"""A send that cannot complete within this (the peer reads nothing) ends the connection."""
CLOSE_TIMEOUT_SECONDS = 30.0
"""How long the close frame may wait behind what a slow peer has not read yet."""
REVALIDATE_SECONDS = 60.0
"""Credentials are checked again at least this often (an API key's expiry, say)."""
SSE_KEEPALIVE_SECONDS = 15.0

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_TOO_MANY = 4429


class _Credentials:
    """What a connection authenticated with, kept to check it again (never logged)."""

    __slots__ = ("api_key", "expires_at", "token")

    def __init__(self, token: str | None, api_key: str | None) -> None:
        self.token = token
        self.api_key = api_key
        self.expires_at: datetime | None = None

    async def principal(self, container: Container) -> Principal:
        principal = await authenticate(container, token=self.token, api_key=self.api_key)
        self.note_expiry(container)
        return principal

    def note_expiry(self, container: Container) -> None:
        """The access token's expiry (an API key's is found by revalidation)."""
        if self.token:
            with contextlib.suppress(AuthenticationError):
                claims = container.token_service().verify_access_token(self.token)
                self.expires_at = claims.expires_at


def _header_credentials(headers: Any) -> _Credentials | None:
    header = headers.get("authorization")
    token = None
    if header is not None:
        scheme, _, value = header.partition(" ")
        token = value.strip() if scheme.lower() == "bearer" else ""
    api_key = headers.get("x-api-key")
    if token is None and api_key is None:
        return None
    return _Credentials(token, api_key)


def _event_message(event: OutboxEvent) -> str:
    return json.dumps({"type": "event", "event": event.public()}, separators=(",", ":"))


@router.websocket("")
async def events_socket(websocket: WebSocket) -> None:
    """The WebSocket protocol: authenticate (headers, or a first `auth` message within
    10 s), `ready`, then `subscribe` messages; events follow, in commit order per
    resource. Close codes: 4401 unauthenticated or revoked, 4403 forbidden, 4408 no
    authentication in time, 4429 too many connections or a consumer too slow."""
    await websocket.accept()
    container = container_of(websocket)
    hub: LiveHub = container.live_hub()
    credentials = _header_credentials(websocket.headers)
    if credentials is None:
        credentials = await _first_message_credentials(websocket)
        if credentials is None:
            return
    try:
        principal = await credentials.principal(container)
    except AuthenticationError:
        await _close(websocket, CLOSE_UNAUTHENTICATED)
        return
    try:
        subscription = hub.open(principal, lambda: credentials.principal(container))
    except TooManyConnectionsError:
        await _close(websocket, CLOSE_TOO_MANY)
        return
    live_connections.labels(channel="websocket").inc()
    try:
        await websocket.send_json({"type": "ready"})
        await _serve(websocket, hub, subscription, credentials, container)
    except WebSocketDisconnect:
        pass
    except _TooSlow:
        count_dropped("websocket", subscription.backlog or 1)
        await _close(websocket, CLOSE_TOO_MANY, within=CLOSE_TIMEOUT_SECONDS)
    finally:
        hub.close(subscription)
        live_connections.labels(channel="websocket").dec()


async def _first_message_credentials(websocket: WebSocket) -> _Credentials | None:
    try:
        async with asyncio.timeout(AUTH_TIMEOUT_SECONDS):
            message = await _receive_json(websocket)
    except TimeoutError:
        await _close(websocket, CLOSE_AUTH_TIMEOUT)
        return None
    except WebSocketDisconnect:
        return None
    token = message.get("access_token") if message and message.get("type") == "auth" else None
    if not isinstance(token, str) or not token:
        await _close(websocket, CLOSE_UNAUTHENTICATED)
        return None
    return _Credentials(token, None)


async def _serve(
    websocket: WebSocket,
    hub: LiveHub,
    subscription: Subscription,
    credentials: _Credentials,
    container: Container,
) -> None:
    """One loop over three things: the client's next message, the next live event, and
    the moment the credentials must be checked again (expiry, revalidation)."""
    incoming: asyncio.Task[dict[str, Any] | None] = asyncio.create_task(_receive_json(websocket))
    outgoing: asyncio.Task[OutboxEvent | None] = asyncio.create_task(subscription.next())
    check = asyncio.create_task(asyncio.sleep(_seconds_to_check(credentials, container)))
    try:
        while True:
            done, _ = await asyncio.wait(
                {incoming, outgoing, check}, return_when=asyncio.FIRST_COMPLETED
            )
            if check in done:
                if not await _still_valid(subscription, credentials, container):
                    subscription.end(Ended.REVOKED)
                check = asyncio.create_task(
                    asyncio.sleep(_seconds_to_check(credentials, container))
                )
            if outgoing in done:
                event = outgoing.result()
                if event is None:
                    await _end(websocket, subscription)
                    return
                if event.id not in subscription.replayed:
                    await _send(websocket, subscription, _event_message(event))
                    count_delivered("websocket")
                outgoing = asyncio.create_task(subscription.next())
            if incoming in done:
                message = incoming.result()
                if message is None:
                    await websocket.send_json({"type": "error", "error": "bad_request"})
                elif not await _handle(websocket, hub, subscription, message):
                    return
                incoming = asyncio.create_task(_receive_json(websocket))
    finally:
        for task in (incoming, outgoing, check):
            task.cancel()


async def _handle(
    websocket: WebSocket, hub: LiveHub, subscription: Subscription, message: dict[str, Any]
) -> bool:
    """Answer one client message; False when the connection is over."""
    kind = message.get("type")
    if kind == "ping":
        await websocket.send_json({"type": "pong"})
        return True
    if kind != "subscribe":
        await websocket.send_json(
            {"type": "error", "error": "bad_request", "message": "unknown message type"}
        )
        return True
    topics = message.get("topics")
    after = _event_id(message.get("after"))
    if (
        not isinstance(topics, list)
        or not all(isinstance(t, str) for t in topics)
        or after is False
    ):
        await websocket.send_json(
            {"type": "error", "error": "bad_request", "message": "topics: [str], after?: id"}
        )
        return True
    _, refused = hub.subscribe(subscription, topics)
    for topic in refused:
        await websocket.send_json({"type": "error", "error": "forbidden", "topic": topic})
    await websocket.send_json({"type": "subscribed", "topics": sorted(subscription.topics)})
    if isinstance(after, UUID):
        try:
            async for event in hub.replay(subscription, after):
                await _send(websocket, subscription, _event_message(event))
                count_delivered("websocket")
        except ResumeExpiredError:
            await websocket.send_json({"type": "error", "error": "resume_expired"})
    return True


def _event_id(value: object) -> UUID | bool | None:
    """The `after` id; None when absent; False when malformed."""
    if value is None:
        return None
    if not isinstance(value, str):
        return False
    try:
        return UUID(value)
    except ValueError:
        return False


async def _receive_json(websocket: WebSocket) -> dict[str, Any] | None:
    """The next message as a JSON object; None for anything else. Raises
    `WebSocketDisconnect` when the client went away."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    raw = message.get("text") or message.get("bytes")
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


class _TooSlow(Exception):
    """The peer does not read what it is sent: closed with 4429."""


async def _send(websocket: WebSocket, subscription: Subscription, text: str) -> None:
    """Send, unless the peer stops reading: a send blocked (the transport's buffer is
    full) for `SEND_TIMEOUT_SECONDS`, or while the hub ends the connection because its
    queue overflowed, is given up (nothing was written yet) and raises `_TooSlow`."""
    sending = asyncio.ensure_future(websocket.send_text(text))
    ending = asyncio.ensure_future(subscription.wait_ended())
    try:
        done, _ = await asyncio.wait(
            {sending, ending}, timeout=SEND_TIMEOUT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        ending.cancel()
    if sending not in done:
        sending.cancel()
        raise _TooSlow()
    sending.result()


async def _end(websocket: WebSocket, subscription: Subscription) -> None:
    why = subscription.ended
    if why is Ended.REVOKED:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(1.0):
                await websocket.send_text(json.dumps({"type": "revoked"}))
        await _close(websocket, CLOSE_UNAUTHENTICATED)
    else:
        raise _TooSlow()


async def _close(websocket: WebSocket, code: int, *, within: float = 2.0) -> None:
    if websocket.application_state == WebSocketState.DISCONNECTED:
        return
    # Bounded: a peer that reads nothing must not hold the handler open.
    with contextlib.suppress(Exception):
        async with asyncio.timeout(within):
            await websocket.close(code)


def _seconds_to_check(credentials: _Credentials, container: Container) -> float:
    if credentials.expires_at is None:
        return REVALIDATE_SECONDS
    now: datetime = container.clock().now()
    left = (credentials.expires_at - now).total_seconds()
    return max(0.0, min(left, REVALIDATE_SECONDS))


async def _still_valid(
    subscription: Subscription, credentials: _Credentials, container: Container
) -> bool:
    if credentials.expires_at is not None and container.clock().now() >= credentials.expires_at:
        return False
    try:
        subscription.principal = await credentials.principal(container)
    except AuthenticationError:
        return False
    return True


# --- Server-Sent Events ----------------------------------------------------------------


@router.get("/stream", include_in_schema=False)
async def events_stream(
    request: Request,
    principal: CurrentPrincipal,
    topics: Annotated[str, Query(description="Comma-separated topics.")],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """The same events as `text/event-stream`: `id:` (the event id), `event:` (its
    name), `data:` (the Event JSON); `Last-Event-ID` resumes as `after` does."""
    container = container_of(request)
    hub: LiveHub = container.live_hub()
    wanted = [t.strip() for t in topics.split(",") if t.strip()]
    after = _event_id(last_event_id)
    if not wanted or after is False:
        raise InvalidValueError("topics must name at least one topic", field="topics")
    credentials = _header_credentials(request.headers)
    assert credentials is not None  # CurrentPrincipal authenticated with them
    credentials.note_expiry(container)
    try:
        subscription = hub.open(principal, lambda: credentials.principal(container))
    except TooManyConnectionsError as error:
        limit = hub.per_account_limit
        raise RateLimitedError(limit=limit, remaining=0, reset_seconds=5, retry_after=5) from error
    _, refused = hub.subscribe(subscription, wanted)
    if refused:
        hub.close(subscription)
        raise PermissionDeniedError(f"may not follow: {', '.join(refused)}")
    return StreamingResponse(
        _sse(hub, subscription, credentials, container, after if isinstance(after, UUID) else None),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _sse_frame(event: OutboxEvent) -> str:
    data = json.dumps(event.public(), separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.name}\ndata: {data}\n\n"


async def _sse(
    hub: LiveHub,
    subscription: Subscription,
    credentials: _Credentials,
    container: Container,
    after: UUID | None,
) -> AsyncIterator[str]:
    live_connections.labels(channel="sse").inc()
    outgoing: asyncio.Task[OutboxEvent | None] | None = None
    try:
        yield ": ready\n\n"
        if after is not None:
            try:
                async for event in hub.replay(subscription, after):
                    yield _sse_frame(event)
                    count_delivered("sse")
            except ResumeExpiredError:
                yield 'event: error\ndata: {"type":"error","error":"resume_expired"}\n\n'
        outgoing = asyncio.create_task(subscription.next())
        while True:
            timeout = min(SSE_KEEPALIVE_SECONDS, _seconds_to_check(credentials, container))
            done, _ = await asyncio.wait({outgoing}, timeout=timeout)
            if not done:
                if not await _still_valid(subscription, credentials, container):
                    subscription.end(Ended.REVOKED)
                yield ": keep-alive\n\n"
                continue
            next_event = outgoing.result()
            if next_event is None:
                if subscription.ended is Ended.REVOKED:
                    yield 'event: revoked\ndata: {"type":"revoked"}\n\n'
                else:
                    count_dropped("sse", subscription.backlog or 1)
                return
            if next_event.id not in subscription.replayed:
                yield _sse_frame(next_event)
                count_delivered("sse")
            outgoing = asyncio.create_task(subscription.next())
    finally:
        if outgoing is not None:
            outgoing.cancel()
        hub.close(subscription)
        live_connections.labels(channel="sse").dec()
