"""Refuse requests for a Host this service does not answer to, with 400 in the envelope.

A forged Host header poisons anything built from it: absolute links in mail (password
reset), redirects, caches keyed on the host (OWASP Web Security Testing Guide,
WSTG-INPV-17, "Testing for Host Header Injection"). Pure ASGI; runs before routing.
"""

import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

from entrypoints.http.errors import envelope


class AllowedHostsMiddleware:
    """Lets through only requests whose Host (port stripped) matches `allowed_hosts`.

    Patterns: an exact name or IP literal (`api.example.com`, `127.0.0.1`, `[::1]` or
    `::1`), `*.example.com` for any subdomain (not the apex: list it too), or `*` for any
    host. Matching ignores case and one trailing dot. A missing, empty or repeated Host
    header is refused unless `*` is allowed: a repeated one is how requests get routed by
    one hop and interpreted by another (RFC 9112 §3.2 asks servers to answer 400).
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: Sequence[str]) -> None:
        self.app = app
        self.any_host = False
        self.exact: set[str] = set()
        self.suffixes: list[str] = []
        for pattern in allowed_hosts:
            self._add(pattern)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self.any_host:
            await self.app(scope, receive, send)
            return
        values = [value for key, value in scope["headers"] if key == b"host"]
        host = _hostname(bytes(values[0]).decode("latin-1")) if len(values) == 1 else ""
        if host and self._allowed(host):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            # 1008: policy violation. No envelope: a socket never accepted reads no body.
            await send({"type": "websocket.close", "code": 1008})
            return
        response = envelope(scope.get("request_id"), 400, "bad_request", "invalid host header")
        await response(scope, receive, send)

    def _add(self, pattern: str) -> None:
        pattern = pattern.strip().lower()
        if pattern.count(":") > 1 and not pattern.startswith("["):
            pattern = f"[{pattern}]"  # a bare IPv6 address
        if pattern == "*":
            self.any_host = True
        elif pattern.startswith("*."):
            domain = _hostname(pattern[2:])
            if not domain or ":" in domain:
                raise ValueError(f"invalid allowed host pattern: {pattern!r}")
            self.suffixes.append("." + domain)
        else:
            host = _hostname(pattern)
            if not host:
                raise ValueError(f"invalid allowed host pattern: {pattern!r}")
            self.exact.add(host)

    def _allowed(self, host: str) -> bool:
        return host in self.exact or any(host.endswith(suffix) for suffix in self.suffixes)


def _hostname(value: str) -> str:
    """`Host` value → lower-case host without port, brackets or trailing dot ("" if bad).

    Only the characters a hostname or IP literal can hold: without that check
    `evil.com/.example.com` would pass as a subdomain of example.com, and a link built
    from it would lead to evil.com (Django validates the same way).
    """
    match = _HOST.fullmatch(value.strip().lower())
    if match is None:
        return ""
    name = match["name"]
    return name[1:-1] if name.startswith("[") else name.removesuffix(".")


# A DNS name or IPv4 address, or a bracketed IPv6 literal (RFC 3986 §3.2.2), then a port.
_HOST = re.compile(r"(?P<name>[a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::[0-9]*)?", re.ASCII)
