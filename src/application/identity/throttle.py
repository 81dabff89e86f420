"""Rate-limit policies, applied by use cases (not only by routes), per client address
and per account."""

import functools
import ipaddress
from dataclasses import dataclass, field

from application.errors import RateLimitedError
from application.ports.rate_limiter import RateLimiter
from application.ports.rejection_listener import LimitName, RejectionListener
from application.ports.request_context import RequestContext


@dataclass(frozen=True, slots=True)
class Rate:
    limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottlePolicy:
    """Defaults sized for people behind one shared address (an office, a campus) while
    keeping online guessing slow; lockout adds a per-account ceiling on top."""

    enabled: bool = True
    login_per_account: Rate = field(default_factory=lambda: Rate(10, 60))
    login_per_client: Rate = field(default_factory=lambda: Rate(30, 60))
    register_per_client: Rate = field(default_factory=lambda: Rate(20, 3600))
    reset_per_client: Rate = field(default_factory=lambda: Rate(10, 3600))
    # Mail to one address: each client gets its own budget, so one that spends it (an
    # attacker) cannot starve another (the owner); a ceiling over every client still
    # bounds what the inbox receives, and refills one mail every window/limit.
    reset_per_email_client: Rate = field(default_factory=lambda: Rate(3, 3600))
    reset_per_email: Rate = field(default_factory=lambda: Rate(10, 3600))
    requests_per_client: Rate = field(default_factory=lambda: Rate(600, 60))


class Throttle:
    def __init__(
        self,
        limiter: RateLimiter,
        context: RequestContext,
        policy: ThrottlePolicy,
        on_rejected: RejectionListener = lambda _: None,
    ) -> None:
        self._limiter = limiter
        self._context = context
        self._policy = policy
        self._on_rejected = on_rejected

    async def login_client(self) -> None:
        await self._hit("login_per_client", "login:client", self._client())

    async def login_account(self, account: str) -> None:
        """`account`: the user id when the name resolved, so that a username and its
        email share one budget; else the name as typed, normalised."""
        await self._hit("login_per_account", "login:account", account.strip().lower())

    async def forget_login_account(self, account: str) -> None:
        """Forget an account's sign-in budget (an administrator unlocking it)."""
        if self._policy.enabled:
            await self._limiter.reset(f"login:account:{account.strip().lower()}")

    async def mail_to(self, address: str) -> None:
        """Mails to one address (verification or reset), so nobody floods an inbox nor
        keeps its owner from a mail: first this client's budget for the address (a
        client past it never touches the shared one), then the ceiling over all."""
        mailbox = address.strip().lower()
        await self._hit(
            "reset_per_email_client", "mail:address-client", f"{mailbox}|{self._client()}"
        )
        await self._hit("reset_per_email", "mail:address", mailbox)

    async def registration(self) -> None:
        await self._hit("register_per_client", "register:client", self._client())

    async def password_reset(self, email: str) -> None:
        await self._hit("reset_per_client", "reset:client", self._client())
        await self.mail_to(email)

    async def request(self) -> None:
        """The general per-client budget, applied to every request."""
        if self._policy.enabled:  # skips working out the client when limits are off
            await self._hit("requests_per_client", "any:client", self._client())

    def _client(self) -> str:
        ip = self._context.current().ip
        return "unknown" if ip is None else _bucket(ip)

    async def _hit(self, limit: LimitName, scope: str, subject: str) -> None:
        if not self._policy.enabled:
            return
        rate: Rate = getattr(self._policy, limit)
        decision = await self._limiter.hit(
            f"{scope}:{subject}", limit=rate.limit, window_seconds=rate.window_seconds
        )
        if not decision.allowed:
            self._on_rejected(limit)
            raise RateLimitedError(
                limit=decision.limit,
                remaining=decision.remaining,
                reset_seconds=decision.reset_seconds,
                retry_after=max(1, decision.retry_after_seconds),
            )


@functools.lru_cache(maxsize=4096)
def _bucket(ip: str) -> str:
    """IPv6 clients are counted per /64: one host commonly holds a whole /64, so a
    per-address budget would be no budget at all. Cached: every request asks, and a
    busy instance sees the same few thousand clients again and again."""
    address = ipaddress.ip_address(ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
