"""`METRICS_ENABLED=false`: no `/metrics`, no request counting, and the API unchanged."""

from tests.integration.http.conftest import AppFactory
from tests.integration.http.helpers import bearer, registered_and_logged_in
from tests.integration.http.test_metrics import moved, scrape

ME = "/api/v1/auth/me"


async def test_metrics_off_serves_no_metrics_and_counts_nothing(app_factory: AppFactory) -> None:
    off = await app_factory(database_url="memory://", _fake_hasher=True, metrics_enabled=False)
    # The registry is process-global: an app with metrics on shows whether the other
    # app's requests were counted.
    witness = await app_factory(database_url="memory://", _fake_hasher=True)
    before = await scrape(witness)

    assert (await off.get("/metrics")).status_code == 404
    user, tokens = await registered_and_logged_in(off)
    me = await off.get(ME, headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["username"] == user["username"]
    assert (await off.get("/health")).status_code == 200

    after = await scrape(witness)
    for method, route in (("GET", ME), ("GET", "/health"), ("POST", "/api/v1/auth/login")):
        labels = {"method": method, "route": route, "code": "200"}
        assert moved(before, after, "hexahub_http_requests_total", **labels) == 0, route
