"""While the app serves, the event loop hands the GIL to a waiting thread (aiosqlite's,
the hash pool's) within half a millisecond, not CPython's 5 ms: a login's every step
waits on such a hand-off."""

import sys

from tests.integration.http.conftest import AppFactory


async def test_the_loop_lets_threads_in_quickly_while_the_app_serves(
    app_factory: AppFactory,
) -> None:
    client = await app_factory()
    assert (await client.get("/health")).status_code == 200
    assert sys.getswitchinterval() == 0.0005
