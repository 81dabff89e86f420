"""The monitoring files (deploy/prometheus, deploy/grafana, deploy/otel-collector) and
docker-compose.yml, read the way Prometheus, Grafana, the collector and Compose read them.

No Docker here: the checks are structural (every alert complete, every metric a rule or
panel queries is one HexaHub serves, every path and host:port one file names exists in
the others). With `promtool` on PATH (Debian: `apt-get install prometheus`) the rules,
their unit tests (deploy/prometheus/alerts.test.yml), the configuration and the
dashboard's queries also go through Prometheus's own parser; without it those tests skip.
"""

import importlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[3]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERT_TESTS = ROOT / "deploy" / "prometheus" / "alerts.test.yml"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
DASHBOARD = DASHBOARDS / "hexahub.json"
DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDER = ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "hexahub.yml"
COLLECTOR_CONFIG = ROOT / "deploy" / "otel-collector" / "config.yaml"

# Every series HexaHub serves on GET /metrics, named as Prometheus stores them: a counter
# gains `_total`, a histogram is its `_bucket`, `_sum` and `_count`. Rules and panels may
# query only these and PROMETHEUS_STANDARD. Renaming a metric in src/ means renaming it
# here (test_the_listed_metrics_are_the_ones_hexahub_registers compares the two), and
# then every rule or panel still using the old name fails below.
HEXAHUB_METRICS = frozenset(
    {
        "hexahub_http_requests_total",
        "hexahub_http_request_duration_seconds_bucket",
        "hexahub_http_request_duration_seconds_sum",
        "hexahub_http_request_duration_seconds_count",
        "hexahub_http_requests_in_flight",
        "hexahub_http_request_size_bytes_bucket",
        "hexahub_http_request_size_bytes_sum",
        "hexahub_http_request_size_bytes_count",
        "hexahub_http_response_size_bytes_bucket",
        "hexahub_http_response_size_bytes_sum",
        "hexahub_http_response_size_bytes_count",
        "hexahub_registrations_total",
        "hexahub_logins_total",
        "hexahub_refreshes_total",
        "hexahub_lockouts_total",
        "hexahub_api_key_first_uses_total",
        "hexahub_api_key_uses_total",
        "hexahub_rate_limit_rejections_total",
        "hexahub_active_sessions",
        "hexahub_db_pool_connections",
        "hexahub_db_query_duration_seconds_bucket",
        "hexahub_db_query_duration_seconds_sum",
        "hexahub_db_query_duration_seconds_count",
        "hexahub_redis_command_duration_seconds_bucket",
        "hexahub_redis_command_duration_seconds_sum",
        "hexahub_redis_command_duration_seconds_count",
        "hexahub_cache_requests_total",
        "hexahub_circuit_breaker_state",
        "hexahub_dependency_up",
        "hexahub_events_relayed_total",
        "hexahub_event_relay_lag_seconds_bucket",
        "hexahub_event_relay_lag_seconds_sum",
        "hexahub_event_relay_lag_seconds_count",
        "hexahub_live_connections",
        "hexahub_live_events_delivered_total",
        "hexahub_live_events_dropped_total",
        "hexahub_webhook_deliveries_total",
        "hexahub_process_resident_memory_bytes",
        "hexahub_memory_limit_bytes",
        "hexahub_deployments_total",
        "hexahub_deployment_duration_seconds_bucket",
        "hexahub_deployment_duration_seconds_sum",
        "hexahub_deployment_duration_seconds_count",
    }
)
# Written by Prometheus itself for every scrape target.
PROMETHEUS_STANDARD = frozenset({"up"})

REQUIRED_ALERTS = frozenset(
    {
        "HexaHubDown",
        "HexaHubHighErrorRate",
        "HexaHubHighLatency",
        "HexaHubDependencyDown",
        "HexaHubCircuitOpen",
        "HexaHubHighMemory",
    }
)
SEVERITIES = frozenset({"critical", "warning"})
ANY_INTERFACE = "0.0.0.0"  # noqa: S104  # the collector's listen address, not ours

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not on PATH (Debian: apt-get install prometheus)"
)

# --- reading PromQL -------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
# The parenthesised label lists after these hold label names, not metrics.
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"})


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (function and label names left out)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _LABEL_LIST.sub(" ", text)
    return {name for name in _IDENTIFIER.findall(text) if name.lower() not in _KEYWORDS}


# --- loading the files ----------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = load_yaml(COMPOSE_FILE)["services"]
    return services


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(ALERTS)["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])  # panels inside a collapsed row


def container_ports(service: dict[str, Any]) -> set[int]:
    """Container-side ports a service publishes ("127.0.0.1:9090:9090" -> 9090)."""
    return {int(str(mapping).split(":")[-1].split("/")[0]) for mapping in service["ports"]}


def bind_mounts(service: dict[str, Any]) -> dict[Path, str]:
    """Host path (resolved against the repository) -> container path, binds only."""
    mounts: dict[Path, str] = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("."):
            mounts[(ROOT / source).resolve()] = target
    return mounts


def host_port(address: str) -> tuple[str, int]:
    parts = urlsplit(address if "//" in address else f"//{address}")
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


# --- the PromQL reader itself ---------------------------------------------------------


def test_metric_names_finds_selectors_and_skips_functions_and_labels() -> None:
    expr = (
        'sum by (job, le) (rate(a_bucket{route="/x", job=~"b|c"}[5m])) '
        "/ on (job) group_left (instance) max without (pid) (b_total offset 5m) > bool 0.5 "
        "and up == 1 or histogram_quantile(0.9, c) unless d[$__rate_interval]"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "up", "c", "d"}


# --- Prometheus -----------------------------------------------------------------------


def test_prometheus_scrapes_the_compose_app_and_loads_the_alerts() -> None:
    config = load_yaml(PROMETHEUS_CONFIG)
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "hexahub"]
    assert job.get("metrics_path", "/metrics") == "/metrics"
    (target,) = [t for static in job["static_configs"] for t in static["targets"]]
    host, port = host_port(target)
    app = compose_services()[host]
    assert "build" in app, f"scrape target {target} is not the service Compose builds"
    assert port in container_ports(app)
    assert [PROMETHEUS_CONFIG.parent / name for name in config["rule_files"]] == [ALERTS]


def test_every_alert_has_an_expression_a_duration_a_severity_and_a_text() -> None:
    rules = alert_rules()
    assert rules
    for rule in rules:
        name = rule.get("alert")
        assert name, f"recording rule or unnamed alert in {ALERTS.name}: {rule}"
        assert str(rule.get("expr", "")).strip(), name
        assert re.fullmatch(r"(\d+[smh])+", str(rule.get("for", ""))), name
        assert rule.get("labels", {}).get("severity") in SEVERITIES, name
        annotations = rule.get("annotations", {})
        assert str(annotations.get("summary", "")).strip(), name
        assert str(annotations.get("description", "")).strip(), name


def test_the_required_alerts_exist() -> None:
    names = [rule["alert"] for rule in alert_rules()]
    assert len(names) == len(set(names)), "duplicate alert names"
    assert set(names) >= REQUIRED_ALERTS


def test_alerts_query_only_metrics_hexahub_or_prometheus_exposes() -> None:
    unknown = {
        rule["alert"]: sorted(metric_names(rule["expr"]) - HEXAHUB_METRICS - PROMETHEUS_STANDARD)
        for rule in alert_rules()
    }
    assert {name: metrics for name, metrics in unknown.items() if metrics} == {}


def test_the_listed_metrics_are_the_ones_hexahub_registers() -> None:
    # Importing the app registers every module-level metric in prometheus_client's registry.
    for module in ("entrypoints.container", "entrypoints.http.app"):
        importlib.import_module(module)

    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_sum", "_count"),
        "summary": ("_sum", "_count"),
        "info": ("_info",),
    }
    registered = {
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith("hexahub_")
        for suffix in suffixes.get(family.type, ("",))
    }
    assert sorted(registered - HEXAHUB_METRICS) == [], "registered in src/, not listed here"
    assert sorted(HEXAHUB_METRICS - registered) == [], "listed here, not registered in src/"


# --- Grafana --------------------------------------------------------------------------


def test_dashboard_queries_only_metrics_hexahub_or_prometheus_exposes() -> None:
    board = dashboard()
    unknown = {
        panel["title"]: sorted(metric_names(target["expr"]) - HEXAHUB_METRICS - PROMETHEUS_STANDARD)
        for panel in panels(board)
        for target in panel.get("targets", [])
    }
    assert {title: metrics for title, metrics in unknown.items() if metrics} == {}


def test_dashboard_shows_traffic_latency_errors_logins_pool_and_cache() -> None:
    queried: dict[str, set[str]] = {}
    for panel in panels(dashboard()):
        for target in panel.get("targets", []):
            queried.setdefault(panel["title"], set()).update(metric_names(target["expr"]))
    everything = set().union(*queried.values())
    for metric in (
        "hexahub_http_requests_total",
        "hexahub_http_request_duration_seconds_bucket",
        "hexahub_logins_total",
        "hexahub_db_pool_connections",
        "hexahub_cache_requests_total",
    ):
        assert metric in everything, metric
    (latency,) = [p for p in panels(dashboard()) if p["title"] == "Latency percentiles"]
    exprs = " ".join(target["expr"] for target in latency["targets"])
    quantiles = set(re.findall(r"histogram_quantile\(\s*([0-9.]+)", exprs))
    assert quantiles == {"0.5", "0.95", "0.99"}


def test_every_panel_uses_a_provisioned_datasource_and_has_a_unique_id() -> None:
    provisioned = {ds["uid"] for ds in load_yaml(DATASOURCES)["datasources"]}
    board = dashboard()
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids))
    for panel in panels(board):
        assert panel["datasource"]["uid"] in provisioned, panel["title"]
        assert panel["targets"], panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target.get("datasource", panel["datasource"])["uid"] in provisioned


def test_grafana_provisioning_loads_the_dashboard_from_where_compose_mounts_it() -> None:
    grafana = compose_services()["grafana"]
    mounts = bind_mounts(grafana)
    assert mounts[(ROOT / "deploy" / "grafana" / "provisioning").resolve()] == (
        "/etc/grafana/provisioning"
    )
    (provider,) = load_yaml(DASHBOARD_PROVIDER)["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == mounts[DASHBOARDS.resolve()]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/{DASHBOARD.name}"
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"


def test_grafana_datasources_point_at_compose_services() -> None:
    services = compose_services()
    for datasource in load_yaml(DATASOURCES)["datasources"]:
        host, port = host_port(datasource["url"])
        assert port in container_ports(services[host]), datasource["name"]
    (default,) = [ds for ds in load_yaml(DATASOURCES)["datasources"] if ds.get("isDefault")]
    assert default["type"] == "prometheus"


# --- collector and Compose ------------------------------------------------------------


def test_collector_receives_otlp_on_both_ports_and_exports_traces_to_jaeger() -> None:
    config = load_yaml(COLLECTOR_CONFIG)
    protocols = config["receivers"]["otlp"]["protocols"]
    # Every interface: other containers reach it over the Compose network.
    assert host_port(protocols["grpc"]["endpoint"]) == (ANY_INTERFACE, 4317)
    assert host_port(protocols["http"]["endpoint"]) == (ANY_INTERFACE, 4318)
    traces = config["service"]["pipelines"]["traces"]
    assert "otlp" in traces["receivers"]
    for kind in ("receivers", "processors", "exporters"):
        for name in traces.get(kind, []):
            assert name in config[kind], f"{kind}: {name} used but not defined"
    for name in config["service"].get("extensions", []):
        assert name in config["extensions"], name
    services = compose_services()
    for name in traces["exporters"]:
        host, _ = host_port(config["exporters"][name]["endpoint"])
        assert host in services, name


def test_app_sends_traces_to_the_collector() -> None:
    services = compose_services()
    environment = services["app"]["environment"]
    assert environment["OTEL_SERVICE_NAME"] == "hexahub"
    host, port = host_port(environment["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert host in services
    http = load_yaml(COLLECTOR_CONFIG)["receivers"]["otlp"]["protocols"]["http"]
    assert port == host_port(http["endpoint"])[1]


def test_every_compose_service_has_a_healthcheck_and_a_pinned_image() -> None:
    for name, service in compose_services().items():
        test = service.get("healthcheck", {}).get("test")
        assert test, f"{name} has no healthcheck"
        if "build" in service:
            continue  # built from this repository
        image = service["image"]
        assert ":" in image, f"{name}: {image} has no tag"
        assert not image.endswith(":latest"), f"{name}: {image} is not pinned"


def test_every_file_compose_mounts_exists() -> None:
    for name, service in compose_services().items():
        for source in bind_mounts(service):
            assert source.exists(), f"{name} mounts {source}, which does not exist"
            assert source.is_relative_to(ROOT), f"{name} mounts {source} outside the repo"


# --- promtool -------------------------------------------------------------------------


def promtool(*args: str | Path) -> None:
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_promtool_accepts_the_rules() -> None:
    promtool("check", "rules", ALERTS)


@needs_promtool
def test_promtool_accepts_the_configuration() -> None:
    promtool("check", "config", PROMETHEUS_CONFIG)


@needs_promtool
def test_alerts_fire_and_stay_quiet_as_their_unit_tests_expect() -> None:
    promtool("test", "rules", ALERT_TESTS)


@needs_promtool
def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    # Grafana fills in its range variables before Prometheus sees the query.
    rules = [
        {
            "record": f"dashboard:panel{panel['id']}:{target['refId']}",
            "expr": re.sub(r"\$__(rate_)?interval|\$__range", "5m", target["expr"]),
        }
        for panel in panels(dashboard())
        for target in panel["targets"]
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    promtool("check", "rules", path)


# --- labels ---------------------------------------------------------------------------

_SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
# Added by Prometheus (target labels) or by the histogram itself.
_ALWAYS_THERE = frozenset({"job", "instance", "le"})


def hexahub_label_names() -> dict[str, set[str]]:
    """Every series name HexaHub serves -> the labels it carries."""
    for module in ("entrypoints.container", "entrypoints.http.app"):
        importlib.import_module(module)
    collectors = REGISTRY._names_to_collectors  # type: ignore[attr-defined]
    labels: dict[str, set[str]] = {}
    for name in HEXAHUB_METRICS:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        collector = collectors.get(name) or collectors[base]
        labels[name] = set(collector._labelnames) | _ALWAYS_THERE
    return labels


def test_rules_and_panels_filter_only_on_labels_the_metrics_carry() -> None:
    known = hexahub_label_names()
    exprs = [rule["expr"] for rule in alert_rules()] + [
        target["expr"] for panel in panels(dashboard()) for target in panel["targets"]
    ]
    unknown = {
        (metric, label)
        for expr in exprs
        for metric, matchers in _SELECTOR.findall(expr)
        if metric in known
        for label in _MATCHER.findall(_STRING.sub('""', matchers))
        if label not in known[metric]
    }
    assert unknown == set()
