"""Webhooks as the contract fixes them: registration (`webhooks:manage`, the secret shown
once), Standard Webhooks signatures checked with the reference `standardwebhooks`
package, retries with one `webhook-id`, SSRF refusals, and automatic disabling."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.integration.http.conftest import ADMIN
from tests.integration.http.helpers import bearer, login, register
from tests.integration.http.test_live_events import Instance, admin_headers, instance


class Receiver:
    """A real HTTP endpoint on 127.0.0.1 that answers with the given statuses in turn
    (the last one from then on) and keeps what it was sent."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.arrived = asyncio.Event()
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {
            k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.received.append((headers, body))
        status = self.statuses[min(len(self.received) - 1, len(self.statuses) - 1)]
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()
        self.arrived.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator["Receiver"]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def wait_for(self, count: int, seconds: float = 10) -> None:
        async with asyncio.timeout(seconds):
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()


FAST_RETRIES = {
    "webhook_allow_private_targets": True,
    "webhook_retry_base_seconds": 0.2,
    "webhook_dispatch_interval_seconds": 0.05,
}


@pytest.fixture
async def hooked(tmp_path: Path) -> AsyncIterator[Instance]:
    async with instance(tmp_path, database_url="memory://", **ADMIN, **FAST_RETRIES) as one:
        yield one


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/api/v1/webhooks", json=body, headers=headers)


async def test_a_receiver_failing_twice_gets_three_signed_deliveries_with_one_id(
    hooked: Instance,
) -> None:
    admin = await admin_headers(hooked.client)
    async with Receiver([500, 503, 204]).running() as receiver:
        response = await create(hooked.client, admin, url=receiver.url, events=["user.registered"])
        assert response.status_code == 201, response.text
        webhook = response.json()
        assert webhook["secret"].startswith("whsec_")
        user = await register(hooked.client)
        await receiver.wait_for(3)
        await asyncio.sleep(0.5)  # a fourth would be a bug
    assert len(receiver.received) == 3
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert len(ids) == 1
    verifier = StandardWebhook(webhook["secret"])
    for headers, body in receiver.received:
        event = verifier.verify(body, headers)
        assert event["name"] == "user.registered"
        assert event["id"] == headers["webhook-id"]
        assert event["data"]["id"] == user["id"]
    deliveries = await _deliveries(hooked.client, admin, webhook["id"])
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in deliveries] == [
        (3, 204, "succeeded")
    ]
    assert deliveries[0]["event_id"] == ids.pop()


async def _deliveries(
    client: httpx.AsyncClient, headers: dict[str, str], webhook_id: str
) -> list[dict[str, Any]]:
    for _ in range(50):
        response = await client.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers=headers)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        if items and all(d["outcome"] in ("succeeded", "failed") for d in items):
            return items
        await asyncio.sleep(0.1)
    return items


async def test_a_tampered_delivery_does_not_verify(hooked: Instance) -> None:
    admin = await admin_headers(hooked.client)
    async with Receiver([200]).running() as receiver:
        webhook = (await create(hooked.client, admin, url=receiver.url, events=["*"])).json()
        await register(hooked.client)
        await receiver.wait_for(1)
    headers, body = receiver.received[0]
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(webhook["secret"]).verify(body.replace(b"user", b"usex"), headers)


async def test_the_secret_is_shown_once_and_never_leaves_again(hooked: Instance) -> None:
    admin = await admin_headers(hooked.client)
    async with Receiver([200]).running() as receiver:
        created = (await create(hooked.client, admin, url=receiver.url, events=["*"])).json()
        shown = [
            (await hooked.client.get(f"/api/v1/webhooks/{created['id']}", headers=admin)).json(),
            (await hooked.client.get("/api/v1/webhooks", headers=admin)).json()["items"][0],
            (
                await hooked.client.patch(
                    f"/api/v1/webhooks/{created['id']}", json={"description": "x"}, headers=admin
                )
            ).json(),
        ]
    for body in shown:
        assert "secret" not in body
        assert body["id"] == created["id"]
    async with hooked.container.transactions() as tx:
        outbox = await tx.events.after(None, limit=1000)
    assert any(e.name == "webhook.created" for e in outbox)
    secret = created["secret"].removeprefix("whsec_")
    assert all(secret not in json.dumps(e.public()) + json.dumps(e.facts) for e in outbox)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://100.64.0.1/hook",
    ],
)
async def test_private_targets_are_refused_unless_allowed(tmp_path: Path, url: str) -> None:
    async with instance(tmp_path, database_url="memory://", **ADMIN) as one:
        admin = await admin_headers(one.client)
        response = await create(one.client, admin, url=url, events=["*"])
        assert response.status_code == 422, response.text
        assert response.json()["details"][0]["loc"][-1] == "url"
        # A public-looking change to a private address is refused the same way.
    async with instance(
        tmp_path, database_url="memory://", webhook_allow_private_targets=True, **ADMIN
    ) as allowing:
        admin = await admin_headers(allowing.client)
        assert (await create(allowing.client, admin, url=url, events=["*"])).status_code == 201


async def test_webhooks_need_the_permission(hooked: Instance) -> None:
    user = await register(hooked.client)
    headers = bearer(await login(hooked.client, user["username"]))
    response = await create(hooked.client, headers, url="https://example.com/h", events=["*"])
    assert response.status_code == 403
    assert (await hooked.client.get("/api/v1/webhooks", headers=headers)).status_code == 403


async def test_a_long_run_of_failures_disables_the_webhook_with_an_audit_entry(
    tmp_path: Path,
) -> None:
    settings = {**FAST_RETRIES, "webhook_disable_after_failures": 3}
    async with instance(tmp_path, database_url="memory://", **ADMIN, **settings) as one:
        admin = await admin_headers(one.client)
        async with Receiver([500]).running() as receiver:
            webhook = (await create(one.client, admin, url=receiver.url, events=["*"])).json()
            await register(one.client)
            await receiver.wait_for(3)
            for _ in range(50):
                shown = (
                    await one.client.get(f"/api/v1/webhooks/{webhook['id']}", headers=admin)
                ).json()
                if not shown["active"]:
                    break
                await asyncio.sleep(0.1)
        assert shown["active"] is False
        audit = await one.client.get(
            "/api/v1/audit-events", params={"action": "webhook.disabled"}, headers=admin
        )
        [entry] = audit.json()["items"]
        assert entry["target_id"] == webhook["id"]
        # Switched back on, it starts afresh.
        response = await one.client.patch(
            f"/api/v1/webhooks/{webhook['id']}", json={"active": True}, headers=admin
        )
        assert response.json()["active"] is True


async def test_deleting_a_webhook_stops_its_deliveries(hooked: Instance) -> None:
    admin = await admin_headers(hooked.client)
    async with Receiver([200]).running() as receiver:
        webhook = (await create(hooked.client, admin, url=receiver.url, events=["*"])).json()
        response = await hooked.client.delete(f"/api/v1/webhooks/{webhook['id']}", headers=admin)
        assert response.status_code == 204
        assert (
            await hooked.client.get(f"/api/v1/webhooks/{webhook['id']}", headers=admin)
        ).status_code == 404
        await register(hooked.client)
        await asyncio.sleep(0.5)
    assert receiver.received == []
