"""Webhook deliveries over HTTP with httpx, and the SSRF guard in front of them.

OWASP's Server-Side Request Forgery Prevention Cheat Sheet ("Case 2: the application can
send requests to any external IP address or domain name"): validate the scheme, resolve
the name and refuse it if any address it resolves to is not a public one (loopback,
RFC 1918 private, link-local with the cloud metadata service at 169.254.169.254,
carrier-grade NAT, unique-local IPv6, multicast, reserved), and follow no redirect (a
public target could redirect to an internal one).
"""

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx
import structlog

from application.errors import UnsafeWebhookTargetError
from application.ports.webhook_sender import WebhookSender

log = structlog.get_logger()

RESOLVE_TIMEOUT_SECONDS = 3.0


class HttpxWebhookSender(WebhookSender):
    def __init__(
        self,
        *,
        allow_private: bool,
        require_https: bool,
        timeout_seconds: float,
        max_connections: int = 20,
    ) -> None:
        self._allow_private = allow_private
        self._require_https = require_https
        self._client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(timeout_seconds),
            limits=httpx.Limits(max_connections=max_connections),
            trust_env=False,  # no proxy from the environment: the guard judges the target
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def check_target(self, url: str) -> None:
        parts = urlsplit(url)
        allowed = ("https",) if self._require_https else ("https", "http")
        if parts.scheme not in allowed:
            raise UnsafeWebhookTargetError(f"url must use {' or '.join(allowed)}")
        if parts.username is not None or parts.password is not None:
            raise UnsafeWebhookTargetError("url must not carry credentials")
        try:
            host, port = parts.hostname, parts.port
        except ValueError:
            host = port = None
        if not host:
            raise UnsafeWebhookTargetError("url must name a host")
        addresses = await _resolve(host, port or (443 if parts.scheme == "https" else 80))
        if not addresses:
            raise UnsafeWebhookTargetError("url host does not resolve")
        if not self._allow_private and not all(_public(a) for a in addresses):
            raise UnsafeWebhookTargetError(
                "url resolves to a loopback, private, link-local or reserved address"
            )

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> int | None:
        try:
            await self.check_target(url)  # again: the name may point elsewhere by now
        except UnsafeWebhookTargetError:
            log.warning("webhook_target_refused")
            return None
        try:
            response = await self._client.post(url, content=body, headers=dict(headers))
        except httpx.HTTPError as error:
            # The class only: messages can quote the URL, which may carry a token.
            log.info("webhook_attempt_failed", error=type(error).__name__)
            return None
        return response.status_code


async def _resolve(host: str, port: int) -> list[str]:
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        found = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in found})


def _public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
