"""Rate-limit policies, applied by use cases (not only by routes), per client address
and per account."""

from dataclasses import dataclass, field

from application.errors import RateLimitedError
from application.ports.rate_limiter import RateLimiter
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
    reset_per_email: Rate = field(default_factory=lambda: Rate(3, 3600))
    requests_per_client: Rate = field(default_factory=lambda: Rate(600, 60))


class Throttle:
    def __init__(
        self, limiter: RateLimiter, context: RequestContext, policy: ThrottlePolicy
    ) -> None:
        self._limiter = limiter
        self._context = context
        self._policy = policy

    async def login(self, login: str) -> None:
        await self._hit("login:client", self._client(), self._policy.login_per_client)
        await self._hit("login:account", login.strip().lower(), self._policy.login_per_account)

    async def registration(self) -> None:
        await self._hit("register:client", self._client(), self._policy.register_per_client)

    async def password_reset(self, email: str) -> None:
        await self._hit("reset:client", self._client(), self._policy.reset_per_client)
        await self._hit("reset:email", email.strip().lower(), self._policy.reset_per_email)

    async def request(self) -> None:
        """The general per-client budget, applied to every request."""
        await self._hit("any:client", self._client(), self._policy.requests_per_client)

    def _client(self) -> str:
        return self._context.current().ip or "unknown"

    async def _hit(self, scope: str, subject: str, rate: Rate) -> None:
        if not self._policy.enabled:
            return
        decision = await self._limiter.hit(
            f"{scope}:{subject}", limit=rate.limit, window_seconds=rate.window_seconds
        )
        if not decision.allowed:
            raise RateLimitedError(
                limit=decision.limit,
                remaining=decision.remaining,
                reset_seconds=decision.reset_seconds,
                retry_after=max(1, decision.retry_after_seconds),
            )
