"""Fault-test fixtures: a PostgreSQL and a Redis of the suite's own, which tests stop and
start under a running HexaHub, and the HexaHub processes pointed at them.

Same rule as the shared-server suites (tests/backends.py): with CI=true a missing server
binary fails the run loudly; elsewhere the suite skips with a one-line reason.
"""

import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

import pytest

from tests.backends import IN_CI
from tests.e2e.conftest import Server, ServerFactory, serving
from tests.e2e.conftest import server_factory as server_factory  # the real server process
from tests.faults.servers import MissingBinaryError, ThrowawayPostgres, ThrowawayRedis

ADMIN_EMAIL = "faults-admin@example.com"
ADMIN_USERNAME = "faultsadmin"
ADMIN_PASSWORD = "fault admin passphrase"
LOGINS_PER_ACCOUNT = "3/60"

# Settings that make an outage and its recovery fit in seconds. Names the service does
# not know are ignored by its settings, so knobs of the resilience layer may be listed
# before every one of them exists.
QUICK = {
    # Budgets no traffic test reaches; the rate-limit test sets its own small one.
    "RATE_LIMIT_REQUESTS_PER_CLIENT": "100000/60",
    "RATE_LIMIT_LOGIN_PER_CLIENT": "100000/60",
    "RATE_LIMIT_LOGIN_PER_ACCOUNT": "100000/60",
    "RATE_LIMIT_REGISTER_PER_CLIENT": "100000/60",
    "CIRCUIT_RESET_SECONDS": "1",
    "DATABASE_CONNECT_TIMEOUT_SECONDS": "2",
}


def _unavailable(error: MissingBinaryError) -> NoReturn:
    reason = f"{error}: the fault tests start their own PostgreSQL and Redis"
    if IN_CI:
        pytest.fail(f"{reason}; CI=true requires them", pytrace=False)
    pytest.skip(reason)


S = TypeVar("S", ThrowawayPostgres, ThrowawayRedis)


def _started(kind: Callable[[], S]) -> Iterator[S]:
    try:
        server = kind()
    except MissingBinaryError as error:
        _unavailable(error)
    try:
        server.start()
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def _throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    yield from _started(ThrowawayPostgres)


@pytest.fixture(scope="session")
def _throwaway_redis() -> Iterator[ThrowawayRedis]:
    yield from _started(ThrowawayRedis)


def _running(server: ThrowawayPostgres | ThrowawayRedis) -> None:
    if not server.running:
        server.start()


@pytest.fixture
def fault_postgres(_throwaway_postgres: ThrowawayPostgres) -> ThrowawayPostgres:
    """Running at the start of every test, whatever the previous one left behind."""
    _running(_throwaway_postgres)
    return _throwaway_postgres


@pytest.fixture
def fault_redis(_throwaway_redis: ThrowawayRedis) -> ThrowawayRedis:
    _running(_throwaway_redis)
    return _throwaway_redis


def deployment(postgres: ThrowawayPostgres, redis: ThrowawayRedis) -> dict[str, str]:
    """The environment of one deployment: instances started with it share the database,
    the Redis key prefix and the signing secret."""
    return {
        **QUICK,
        "DATABASE_URL": postgres.url,
        "REDIS_URL": redis.url,
        "REDIS_KEY_PREFIX": f"faults-{uuid.uuid4().hex[:8]}:",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "FIRST_ADMIN_EMAIL": ADMIN_EMAIL,
        "FIRST_ADMIN_USERNAME": ADMIN_USERNAME,
        "FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }


@pytest.fixture
def hexahub(
    server_factory: ServerFactory,
    fault_postgres: ThrowawayPostgres,
    fault_redis: ThrowawayRedis,
) -> Callable[..., Server]:
    """Start HexaHub instances of one deployment on the throwaway servers."""
    shared = deployment(fault_postgres, fault_redis)

    def start(**overrides: str) -> Server:
        return server_factory(**{**shared, **overrides})

    return start


@pytest.fixture(scope="module")
def two_instances(
    tmp_path_factory: pytest.TempPathFactory,
    _throwaway_postgres: ThrowawayPostgres,
    _throwaway_redis: ThrowawayRedis,
) -> Iterator[tuple[Server, Server]]:
    """Two instances of one deployment that live through every outage of a module, as
    they would in production: riding out outages without a restart is what is tested.
    Logins per account are capped at 3 a minute so that a test can hit that limit."""
    _running(_throwaway_postgres)
    _running(_throwaway_redis)
    env = deployment(_throwaway_postgres, _throwaway_redis)
    env["RATE_LIMIT_LOGIN_PER_ACCOUNT"] = LOGINS_PER_ACCOUNT
    with serving(tmp_path_factory.mktemp("instances")) as start:
        yield start(**env), start(**env)
