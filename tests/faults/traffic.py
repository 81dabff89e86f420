"""Mixed client traffic against a running HexaHub, every answer recorded with its timing.

Each worker plays a user: registers, logs in, reads /me, refreshes, and polls the two
health endpoints, over and over, with a new account every few rounds. A token pair whose
refresh did not answer 200 is dropped and the worker starts again with a new account, so
an outage never leaves it holding a token whose fate it cannot know. Workers stop when the
`async with` block ends, or at a hard cap on requests, so traffic never outlives its test.
"""

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "fault tolerant passphrase"
NORMAL = {"register": 201, "login": 200, "me": 200, "refresh": 200, "health": 200, "ready": 200}
NEEDS_DATABASE = frozenset({"register", "login", "me", "refresh"})
MAX_REQUESTS_PER_WORKER = 5_000
SIGN_UP_EVERY = 4
REQUEST_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Outcome:
    op: str
    sent: float
    done: float
    status: int | None
    """None: no HTTP answer at all (connection reset, refused, timed out)."""
    error: str | None
    """The envelope's `error` code, or the transport exception's name."""
    retry_after: str | None
    body: Any

    @property
    def normal(self) -> bool:
        if self.op == "ready" and self.status == 200:
            # 200 is also `degraded` (Redis down): normal is every check answering.
            return isinstance(self.body, dict) and self.body.get("status") == "ok"
        return self.status == NORMAL[self.op]

    def describe(self) -> str:
        took = self.done - self.sent
        return f"{self.op} -> {self.status} {self.error or ''} in {took:.2f}s".rstrip()


class Traffic:
    """`async with Traffic(url) as traffic:` runs workers until the block ends."""

    def __init__(self, url: str, *, workers: int = 3, pause: float = 0.05) -> None:
        self._url = url
        self._workers = workers
        self._pause = pause
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self.outcomes: list[Outcome] = []

    async def __aenter__(self) -> "Traffic":
        self._client = httpx.AsyncClient(base_url=self._url, timeout=REQUEST_TIMEOUT_SECONDS)
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self._workers)]
        return self

    async def __aexit__(self, *_: object) -> None:
        self._stopping.set()
        await asyncio.gather(*self._tasks)
        if self._client is not None:
            await self._client.aclose()

    def since(self, moment: float) -> list[Outcome]:
        return [o for o in self.outcomes if o.sent >= moment]

    def answered_before(self, moment: float) -> list[Outcome]:
        return [o for o in self.outcomes if o.done < moment]

    def between(self, start: float, end: float) -> list[Outcome]:
        """Sent in [start, end), or sent earlier and still unanswered at `start`."""
        return [o for o in self.outcomes if o.done >= start and o.sent < end]

    async def wait_for(self, condition: str, check: Callable[[], bool], *, within: float) -> float:
        """Poll `check()` (over the recorded outcomes) until true; the moment it was.
        Fails with what was seen if it never is."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if check():
                return time.monotonic()
            await asyncio.sleep(0.1)
        recent = "\n".join(o.describe() for o in self.outcomes[-20:])
        raise AssertionError(f"not within {within:.0f}s: {condition}; last answers:\n{recent}")

    async def _worker(self) -> None:
        # `kept`: the first access token, used for /me all along (an outage never makes
        # it doubtful); `tokens`: the pair each round refreshes; `known`: an account that
        # surely exists, to log in with when a registration did not go through.
        kept: str | None = None
        known: str | None = None
        tokens: dict[str, str] | None = None
        for count in itertools.count():
            if self._stopping.is_set() or count >= MAX_REQUESTS_PER_WORKER:
                return
            # A new account every few rounds keeps registration and login in the mix.
            if tokens is None or count % SIGN_UP_EVERY == 0:
                account = await self._register() or known
                known = known or account
                tokens = await self._login(account) if account else None
            else:
                await self._me(tokens["access_token"])
                tokens = await self._refresh(tokens["refresh_token"])
            if kept is None and tokens is not None:
                kept = tokens["access_token"]
            if kept:
                await self._me(kept)
            await self._record("health", "GET", "/health")
            await self._record("ready", "GET", "/health/ready")
            await asyncio.sleep(self._pause)

    async def _register(self) -> str | None:
        """The new account's name, or None if it was not created."""
        name = f"ft{uuid.uuid4().hex[:12]}"
        registered = await self._record(
            "register",
            "POST",
            "/api/v1/auth/register",
            json={"email": f"{name}@example.com", "username": name, "password": PASSWORD},
        )
        return name if registered.normal else None

    async def _login(self, name: str) -> dict[str, str] | None:
        login = await self._record(
            "login", "POST", "/api/v1/auth/login", json={"username": name, "password": PASSWORD}
        )
        return login.body if login.normal else None

    async def _me(self, access_token: str) -> None:
        bearer = {"Authorization": f"Bearer {access_token}"}
        await self._record("me", "GET", "/api/v1/auth/me", headers=bearer)

    async def _refresh(self, refresh_token: str) -> dict[str, str] | None:
        refreshed = await self._record(
            "refresh", "POST", "/api/v1/auth/refresh", json={"refresh_token": refresh_token}
        )
        return refreshed.body if refreshed.normal else None

    async def _record(self, op: str, method: str, path: str, **kwargs: Any) -> Outcome:
        assert self._client is not None
        sent = time.monotonic()
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            outcome = Outcome(op, sent, time.monotonic(), None, type(error).__name__, None, None)
        else:
            try:
                body = response.json()
            except ValueError:
                body = response.text
            code = body.get("error") if isinstance(body, dict) else None
            outcome = Outcome(
                op,
                sent,
                time.monotonic(),
                response.status_code,
                code if isinstance(code, str) else None,
                response.headers.get("retry-after"),
                body,
            )
        self.outcomes.append(outcome)
        return outcome
