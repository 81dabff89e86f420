"""All configuration, read from the environment (and `.env`), validated at start-up.

Flat names, because deployments rely on the exact names in the HTTP contract
(`DATABASE_URL`, `JWT_SECRET`, ...); sections are grouped by comments instead.

Every secret can also be read from a file, as Docker and Kubernetes mount secrets:
`JWT_SECRET_FILE=/run/secrets/jwt_secret` instead of `JWT_SECRET` (see `SECRET_FILES`).
"""

import json
import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
MIN_JWT_SECRET_BYTES = 32
# Values that appear in examples and must never sign production tokens.
KNOWN_WEAK_SECRETS = frozenset({"changeme", "change-me", "secret", "dev-secret", "development"})


SECRET_FILES = (
    "jwt_secret",
    "key_encryption_keys",
    "database_url",
    "redis_url",
    "smtp_password",
    "first_admin_password",
    "oidc_providers",
)
"""Settings that may come from a file instead, named by `<NAME>_FILE`: every secret (a
database or Redis URL can carry a password)."""


def read_secret_file(path: object, setting: str) -> str:
    """The secret in the file at `path`, without the line break an editor or `echo`
    leaves at its end. A missing, unreadable or empty file stops the start with a
    message naming the setting and the path, never the content."""
    try:
        text = Path(str(path)).read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ValueError(f"{setting}: cannot read {path} ({reason})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{setting}: {path} is not UTF-8 text") from None
    value = text.rstrip("\r\n")
    if not value.strip():
        raise ValueError(f"{setting}: {path} is empty")
    return value


def _is_set(value: object) -> bool:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return value is not None and value != [] and not (isinstance(value, str) and not value.strip())


def parse_rate(spec: str) -> tuple[int, int]:
    """ "10/60" -> (10, 60): ten requests per sixty seconds."""
    count, _, seconds = spec.partition("/")
    try:
        parsed = int(count), int(seconds)
    except ValueError:
        raise ValueError(f"rate {spec!r} must look like <count>/<seconds>") from None
    if parsed[0] < 1 or parsed[1] < 1:
        raise ValueError(f"rate {spec!r} needs a positive count and window")
    return parsed


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class OidcProvider(BaseModel):
    """An external OpenID provider people may sign in with (`OIDC_PROVIDERS`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$", description="the URL slug")
    issuer: str = Field(pattern=r"^https?://")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    display_name: str = Field(min_length=1, max_length=64)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        hide_input_in_errors=True,  # a refused JWT_SECRET must not be printed back
    )

    # --- service ---------------------------------------------------------------
    environment: Environment = Environment.DEVELOPMENT
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    event_loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    """The event loop uvicorn serves on; `auto`: the standard library's with one worker,
    uvloop with several. Measured by `bench/perf.py` (64 connections, `/auth/me`): on one
    core the same throughput, but uvloop answered some connections of a new burst only
    after 600 ms (p99 144 ms against 29 ms); with several workers the standard loop lets
    the first worker to wake accept a whole burst, so one did all the work (x0.39 of one
    process, against x1.7 with uvloop)."""
    data_dir: Path = Path("./var")
    public_name: str = "HexaHub"

    # --- storage -----------------------------------------------------------------
    database_url: str | None = None
    """SQLAlchemy async URL; None means the SQLite file under `data_dir`."""
    database_url_file: Path | None = None
    """A file holding DATABASE_URL (it may carry the database password)."""
    database_pool_size: int = Field(default=10, ge=1, le=200)
    """Postgres connections kept per process (as many again may open in a burst): one event
    loop holds a connection only for a statement or a short transaction."""
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """How long a request waits for a pooled connection before a 503 "busy" (back-pressure,
    never counted by the circuit breaker)."""
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    database_statement_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    redis_url: SecretStr | None = None
    redis_url_file: Path | None = None
    """A file holding REDIS_URL (it may carry the Redis password)."""
    redis_key_prefix: str = "hexahub:"

    # --- cache -------------------------------------------------------------------
    cache_enabled: bool = True
    """Cache users and role grants for authenticated requests (see README, Caching)."""
    cache_ttl_seconds: int = Field(default=600, ge=1, le=86_400)
    cache_local_ttl_seconds: float = Field(default=30.0, gt=0, le=3600)
    cache_local_max_entries: int = Field(default=10_000, ge=1, le=10_000_000)

    # --- failure handling ----------------------------------------------------------
    # One circuit breaker per dependency (Postgres, Redis): this many failures in a row
    # open it, and calls then fail at once with 503 until a probe is let through.
    circuit_failure_threshold: int = Field(default=5, ge=1, le=1000)
    circuit_reset_seconds: float = Field(default=5.0, gt=0, le=300)
    readiness_requires_redis: bool = False
    """With Redis configured and down, /health/ready answers 503 instead of 200 `degraded`.
    Off by default: the service keeps serving without Redis (in-process limits, the
    database for revocations), and a shared Redis outage must not take every replica out
    of the load balancer at once."""

    # --- tokens ------------------------------------------------------------------
    jwt_secret: SecretStr | None = None
    """None in development: generated once and kept in `data_dir`."""
    jwt_secret_file: Path | None = None
    """A file holding JWT_SECRET (a Docker or Kubernetes secret); not with JWT_SECRET."""
    jwt_algorithm: Literal["HS256", "RS256", "EdDSA"] = "HS256"
    """HS256 signs with JWT_SECRET; RS256 and EdDSA with keys kept in the database
    (rotated by `hexahub keys rotate`) or supplied as files."""
    jwt_private_key_file: Path | None = None
    jwt_keys_dir: Path | None = None
    """Operator-supplied PEM keys (the newest signs); rotation is then the operator's."""
    key_encryption_keys: Annotated[list[SecretStr], NoDecode] = []
    """Fernet keys (comma-separated) encrypting private keys and TOTP secrets at rest;
    the first encrypts, all decrypt. None in development: generated into DATA_DIR."""
    key_encryption_keys_file: Path | None = None
    """A file holding KEY_ENCRYPTION_KEYS, one key per line or comma-separated."""
    key_refresh_interval_seconds: float = Field(default=30.0, gt=0, le=60)
    """How often each instance reloads signing keys: a rotation reaches all within 60 s."""
    jwt_issuer: str | None = None
    """None: PUBLIC_BASE_URL when set (OpenID discovery expects a URL), else "hexahub"."""
    jwt_audience: str = "hexahub-api"
    jwt_leeway_seconds: int = Field(default=10, ge=0, le=300)
    access_token_ttl_seconds: int = Field(default=1800, ge=60, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=604_800, ge=300, le=31_536_000)
    refresh_reuse_grace_seconds: int = Field(default=2, ge=0, le=60)
    """A rotated refresh token presented again within this window is a race (refused,
    session kept); later it is theft (session revoked). 0 = strict."""

    # --- signing people in (OpenID Connect provider) ----------------------------
    oidc_id_token_algorithm: Literal["RS256", "EdDSA"] = "RS256"  # noqa: S105 - a name
    """Signs id_tokens when access tokens use HS256 (else the access-token key signs
    them): relying parties verify id_tokens from the JWKS, never with a shared secret."""
    authorization_code_ttl_seconds: int = Field(default=60, ge=10, le=600)
    """RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is
    RECOMMENDED"; a minute is plenty for a redirect and a back-channel exchange."""

    oidc_providers: Annotated[list[OidcProvider], NoDecode] = []
    """External OpenID providers: a JSON list of `{name, issuer, client_id,
    client_secret, display_name}`; OIDC_PROVIDERS_FILE reads it from a file."""
    oidc_providers_file: Path | None = None

    # --- passwords ---------------------------------------------------------------
    # OWASP Password Storage Cheat Sheet: argon2id with m >= 19 MiB, t >= 2, p = 1.
    argon2_time_cost: int = Field(default=2, ge=1)
    argon2_memory_cost_kib: int = Field(default=19_456, ge=7_168)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)
    password_hash_concurrency: int | None = Field(default=None, ge=1, le=64)
    """Hashes computed at once per process; each holds `argon2_memory_cost_kib` of memory.
    None: one less than the CPU count, so the event loop always keeps a core (measured
    with bench/login_storm.py: on 2 cores, 2 hash threads starved the loop into pool
    time-outs, 1 thread served every login and halved /health p99)."""
    password_hash_nice: int = Field(default=0, ge=0, le=19)
    """Scheduling niceness of the hash threads (Linux): above 0 they give way to the event
    loop when both want the same core."""
    password_hash_max_waiting: int = Field(default=256, ge=0)
    password_hash_queue_timeout_seconds: float = Field(default=5.0, gt=0)
    password_min_length: int = Field(default=8, ge=8, le=128)
    password_max_length: int = Field(default=128, ge=8, le=1024)

    # --- accounts ----------------------------------------------------------------
    registration_enabled: bool = True
    first_admin_email: str | None = None
    first_admin_password: SecretStr | None = None
    first_admin_password_file: Path | None = None
    """A file holding FIRST_ADMIN_PASSWORD."""
    first_admin_username: str = "admin"

    # --- access control and brute force -------------------------------------------
    require_verified_email: bool = False
    lockout_threshold: int = Field(default=10, ge=1, le=1000)
    lockout_base_seconds: int = Field(default=60, ge=1)
    lockout_max_seconds: int = Field(default=3600, ge=1)
    # How recent a sign-in stands in for the password when an account without one
    # (it signs in elsewhere) makes a sensitive change (OWASP ASVS 5.0 V7.5.1).
    reauth_window_seconds: int = Field(default=300, ge=30, le=3600)
    rate_limit_enabled: bool = True
    # "<count>/<seconds>": a budget of count requests per window.
    rate_limit_login_per_account: str = "10/60"
    rate_limit_login_per_client: str = "30/60"
    rate_limit_register_per_client: str = "20/3600"
    rate_limit_reset_per_client: str = "10/3600"
    # Mails to one address from one client, then from all clients together (README,
    # "Password reset cannot lock the owner out").
    rate_limit_reset_per_email_client: str = "3/3600"
    rate_limit_reset_per_email: str = "10/3600"
    rate_limit_requests_per_client: str = "600/60"

    # --- mail ------------------------------------------------------------------------
    public_base_url: str | None = None
    """Where mailed links point; None: http://HOST:PORT. Never taken from requests."""
    smtp_host: str | None = None
    """None: mail is written to the console (development)."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_password_file: Path | None = None
    """A file holding SMTP_PASSWORD."""
    smtp_starttls: bool = True
    mail_from: str = "HexaHub <no-reply@localhost>"
    mail_dispatch_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    verification_token_ttl_seconds: int = Field(default=86_400, ge=60)
    reset_token_ttl_seconds: int = Field(default=3_600, ge=60)

    # --- events ------------------------------------------------------------------
    event_retention_seconds: int = Field(default=86_400, ge=60, le=90 * 86_400)
    """How long committed events stay in the outbox after they occurred (clients that
    reconnect read what they missed from it); older relayed events are pruned."""
    event_relay_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often the relay looks for events committed by other instances (this
    instance's own commits wake it at once)."""

    # --- live events and webhooks --------------------------------------------------
    live_queue_limit: int = Field(default=1000, ge=1, le=100_000)
    """Events queued for one live connection; a consumer that falls further behind is
    closed (4429) instead of buffered without bound."""
    live_max_connections_per_user: int = Field(default=20, ge=1, le=100_000)
    """Live connections one account (or API key owner, or service client) may hold per
    instance; the next one is closed with 4429."""
    webhook_allow_private_targets: bool = False
    """Allow webhook targets on loopback, private, link-local and metadata addresses."""
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    webhook_max_in_flight: int = Field(default=10, ge=1, le=1000)
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0, le=3600)
    """First retry after about this long, each later one after twice the previous."""
    webhook_retry_max_seconds: float = Field(default=3600.0, gt=0, le=86_400)
    webhook_retry_horizon_seconds: int = Field(default=86_400, ge=1, le=30 * 86_400)
    """A delivery is retried for this long after its event, then given up."""
    webhook_disable_after_failures: int = Field(default=50, ge=1, le=100_000)
    """Failed attempts in a row (no success between) after which a webhook is disabled."""
    webhook_dispatch_interval_seconds: float = Field(default=1.0, gt=0, le=60)

    # --- HTTP --------------------------------------------------------------------
    trusted_proxies: Annotated[list[str], NoDecode] = []
    """Addresses or networks whose X-Forwarded-For is believed."""
    allowed_hosts: Annotated[list[str], NoDecode] = ["*"]
    hsts_enabled: bool = False
    """Send HSTS even when TLS ends at a proxy (it is always sent over https)."""
    cors_origins: Annotated[list[str], NoDecode] = []
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)
    max_concurrent_requests: int | None = Field(default=None, ge=0, le=100_000)
    """Requests one process works on at once; more wait their turn in arrival order
    (0: no bound). A bound lets begun requests finish first, so a login is not starved by
    a flood of short requests; but a request holds its place while it waits on the
    database. Unset: 8 while authenticated requests are served from the cache, none when
    the cache is off (each request then waits on the database)."""
    max_header_bytes: int = Field(default=16_384, ge=1_024, le=1_048_576)
    """Largest request head (request line and headers) accepted; larger is 431 before it
    is buffered (nginx and Node accept 8-16 KiB; a few large cookies fit in 16)."""
    header_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    """A request head, or a new connection's first request, must arrive within this
    (Apache's mod_reqtimeout allows 20 s for the headers by default)."""
    docs_enabled: bool = True
    metrics_enabled: bool = True
    """Count every request and serve `GET /metrics`; off: neither (bench/observability_cost.py
    measures what they cost)."""

    # --- shutdown ----------------------------------------------------------------
    shutdown_timeout_seconds: int = Field(default=30, ge=1, le=3600)
    """After the drain, how long in-flight requests may take before they are cancelled.
    Drain + timeout + a few seconds must fit the orchestrator's grace period."""
    shutdown_drain_seconds: float | None = Field(default=None, ge=0, le=300)
    """After SIGTERM, keep serving this long while /health/ready answers 503, so a load
    balancer stops routing here before the socket closes. None: 5 in production (a few
    readiness polls or an endpoint update), 0 elsewhere so Ctrl+C stops at once."""

    # --- logging -----------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["json", "console"] | None = None
    """None: console in development, JSON elsewhere."""

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, data: object) -> object:
        """`<NAME>_FILE` stands in for `<NAME>`; both at once is a mistake to stop on,
        not a precedence to guess."""
        if not isinstance(data, dict):
            return data
        values = dict(data)
        for name in SECRET_FILES:
            path = values.get(f"{name}_file")
            if not _is_set(path):
                continue
            if _is_set(values.get(name)):
                raise ValueError(
                    f"{name.upper()} and {name.upper()}_FILE are both set; set only one"
                )
            values[name] = read_secret_file(path, f"{name.upper()}_FILE")
        return values

    @field_validator("key_encryption_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):  # comma-separated; a file may put one per line
            return [key for key in re.split(r"[,\s]+", value) if key]
        return value

    @field_validator("oidc_providers", mode="before")
    @classmethod
    def _parse_providers(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else []
            except json.JSONDecodeError:
                raise ValueError("OIDC_PROVIDERS must be a JSON list") from None
        return value

    @field_validator("cors_origins", "trusted_proxies", "allowed_hosts", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator(
        "rate_limit_login_per_account",
        "rate_limit_login_per_client",
        "rate_limit_register_per_client",
        "rate_limit_reset_per_client",
        "rate_limit_reset_per_email",
        "rate_limit_reset_per_email_client",
        "rate_limit_requests_per_client",
    )
    @classmethod
    def _check_rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator(
        "jwt_secret",
        "redis_url",
        "database_url",
        "first_admin_password",
        "smtp_host",
        "smtp_username",
        "smtp_password",
        "public_base_url",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`JWT_SECRET=` in a .env file means "not set", not "an empty secret"."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> "Settings":
        if self.password_min_length > self.password_max_length:
            raise ValueError("PASSWORD_MIN_LENGTH must not exceed PASSWORD_MAX_LENGTH")
        if self.environment is Environment.PRODUCTION:
            secret = self.jwt_secret.get_secret_value() if self.jwt_secret else ""
            if len(secret.encode()) < MIN_JWT_SECRET_BYTES or secret.lower() in KNOWN_WEAK_SECRETS:
                raise ValueError(
                    "ENVIRONMENT=production needs JWT_SECRET (or JWT_SECRET_FILE) set to at "
                    f"least {MIN_JWT_SECRET_BYTES} random bytes; generated or default secrets "
                    "are refused"
                )
            self._check_public_base_url()
            if not self.key_encryption_keys:
                raise ValueError(
                    "ENVIRONMENT=production needs KEY_ENCRYPTION_KEYS or "
                    "KEY_ENCRYPTION_KEYS_FILE (a Fernet key: "
                    "python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())') to encrypt private keys and "
                    "TOTP secrets at rest"
                )
        for key in self.key_encryption_keys:
            if len(key.get_secret_value()) != 44:
                raise ValueError("each KEY_ENCRYPTION_KEYS entry must be a 44-character Fernet key")
        secret_bytes = len(self.jwt_secret.get_secret_value().encode()) if self.jwt_secret else None
        if secret_bytes is not None and secret_bytes < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes")
        return self

    def _check_public_base_url(self) -> None:
        """Mailed links carry one-time tokens (verification, password reset): in production
        they must point at the real public origin, never the bind address, and only over
        TLS (OWASP Forgot Password Cheat Sheet: the reset URL must use HTTPS and must not
        be built from untrusted input, such as the request's Host)."""
        if self.public_base_url is None:
            raise ValueError(
                "ENVIRONMENT=production needs PUBLIC_BASE_URL, the https address users "
                "reach this service at (e.g. https://id.example.com); mailed links "
                f"would otherwise point at {self.effective_public_base_url}"
            )
        url = urlsplit(self.public_base_url.strip())
        if url.scheme.lower() != "https" or not url.hostname:
            raise ValueError(
                "PUBLIC_BASE_URL must be an https URL with a host (e.g. "
                "https://id.example.com) when ENVIRONMENT=production"
            )

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'hexahub.db'}"

    @property
    def effective_log_format(self) -> str:
        if self.log_format:
            return self.log_format
        return "console" if self.environment is Environment.DEVELOPMENT else "json"

    @property
    def effective_shutdown_drain_seconds(self) -> float:
        if self.shutdown_drain_seconds is not None:
            return self.shutdown_drain_seconds
        return 5.0 if self.environment is Environment.PRODUCTION else 0.0

    @property
    def effective_jwt_issuer(self) -> str:
        """JWT_ISSUER, else the configured PUBLIC_BASE_URL (OpenID discovery wants the
        issuer to be the public URL), else "hexahub": never the bind address, which
        differs between instances that must accept each other's tokens."""
        if self.jwt_issuer:
            return self.jwt_issuer
        return self.public_base_url.rstrip("/") if self.public_base_url else "hexahub"

    @property
    def oidc_issuer(self) -> str:
        """OpenID Connect's `issuer`: PUBLIC_BASE_URL (production requires it), else
        the bind address; discovery documents and id_tokens carry it."""
        return self.effective_public_base_url.rstrip("/")

    @property
    def effective_public_base_url(self) -> str:
        return self.public_base_url or f"http://{self.host}:{self.port}"

    @property
    def effective_hash_concurrency(self) -> int:
        # The cores this process may run on (a cpuset or taskset), not the machine's.
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        return self.password_hash_concurrency or max(1, (cores or os.cpu_count() or 2) - 1)

    @property
    def uses_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
