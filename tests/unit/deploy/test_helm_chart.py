"""The Helm chart (deploy/helm/hexahub) as `helm install` would see it: linted and rendered
by the real helm for the default values, the production-like and the development values
files, every manifest validated against the Kubernetes API schemas of the oldest and the
newest Kubernetes the chart supports, and the rendered workload checked for what keeps
it safe to run: probes, security context, disruption budget, autoscaler, migrations.
"""

import base64
import functools
import json
import tomllib
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cryptography.fernet import Fernet

from tests.unit.deploy.tools import ROOT, run, tool

CHART = ROOT / "deploy" / "helm" / "hexahub"
PRODUCTION = ROOT / "deploy" / "helm" / "values-production.yaml"
DEVELOPMENT = ROOT / "deploy" / "helm" / "values-dev.yaml"
SERVICE_MONITOR_API = "monitoring.coreos.com/v1/ServiceMonitor"
# The chart's kubeVersion floor and the newest schemas kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.27.0", kubernetes_validate.latest_version())

VALUES_FILES = {
    "default": [],
    "production": ["-f", str(PRODUCTION)],
    "development": ["-f", str(DEVELOPMENT)],
    "secrets as variables": ["--set", "secrets.mountAsFiles=false"],
}
# `helm template` has no cluster to ask: this says the Prometheus operator is installed.
WITH_CRD = ("--api-versions", SERVICE_MONITOR_API)

Manifest = dict[str, Any]


@functools.cache
def render(*args: str) -> tuple[Manifest, ...]:
    result = run(tool("helm"), "template", "hexahub", CHART, "--namespace", "identity", *args)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def only(manifests: tuple[Manifest, ...], kind: str) -> Manifest:
    (found,) = [m for m in manifests if m["kind"] == kind]
    return found


def kinds(manifests: tuple[Manifest, ...]) -> set[str]:
    return {m["kind"] for m in manifests}


def server(manifests: tuple[Manifest, ...]) -> Manifest:
    container: Manifest = only(manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.parametrize("values", VALUES_FILES)
def test_helm_lint_passes(values: str) -> None:
    result = run(tool("helm"), "lint", "--strict", CHART, *VALUES_FILES[values])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("values", VALUES_FILES)
def test_every_rendered_manifest_matches_the_kubernetes_schema(values: str, version: str) -> None:
    manifests = render(*VALUES_FILES[values], *WITH_CRD)
    assert {"Deployment", "Service", "ConfigMap"} <= kinds(manifests)
    for manifest in manifests:
        if manifest["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # a CRD's kind: no published Kubernetes schema (checked below)
        kubernetes_validate.validate(manifest, version, strict=True)


def test_production_pods_are_probed_and_locked_down() -> None:
    manifests = render(*VALUES_FILES["production"])
    pod = only(manifests, "Deployment")["spec"]["template"]["spec"]
    container = server(manifests)
    assert container["startupProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for each in [container, *pod["initContainers"]]:
        context = each["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert each["resources"]["limits"]["memory"]
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert {"/data", "/tmp"} <= mounts  # noqa: S108  # writable places on the read-only root


def test_the_grace_period_covers_the_drain_and_the_shutdown_timeout() -> None:
    manifests = render(*VALUES_FILES["production"])
    config = only(manifests, "ConfigMap")["data"]
    drain, timeout = int(config["SHUTDOWN_DRAIN_SECONDS"]), int(config["SHUTDOWN_TIMEOUT_SECONDS"])
    grace = only(manifests, "Deployment")["spec"]["template"]["spec"][
        "terminationGracePeriodSeconds"
    ]
    assert grace > drain + timeout


def test_disruption_budget_and_autoscaler_govern_the_server_pods() -> None:
    manifests = render(*VALUES_FILES["production"])
    deployment = only(manifests, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    budget = only(manifests, "PodDisruptionBudget")["spec"]
    assert budget["maxUnavailable"] == 1
    assert budget["selector"]["matchLabels"].items() <= pod_labels.items()
    autoscaler = only(manifests, "HorizontalPodAutoscaler")["spec"]
    assert autoscaler["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert autoscaler["minReplicas"] >= 2
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
    service = only(manifests, "Service")["spec"]
    assert service["selector"].items() <= pod_labels.items()


def test_migrations_run_as_a_hook_before_the_pods_and_the_pods_wait_for_them() -> None:
    manifests = render(*VALUES_FILES["production"])
    job = only(manifests, "Job")
    hooks = job["metadata"]["annotations"]
    assert set(hooks["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["args"] == ["hexahub", "migrate"]
    assert migrate["image"] == server(manifests)["image"]
    assert migrate["envFrom"] == server(manifests)["envFrom"]
    # What the Job reads exists before it: hooks with a lower weight.
    for kind in ("ConfigMap",):
        annotations = only(manifests, kind)["metadata"]["annotations"]
        assert "pre-install" in annotations["helm.sh/hook"]
        assert int(annotations["helm.sh/hook-weight"]) < int(hooks["helm.sh/hook-weight"])
    deployment = only(manifests, "Deployment")["spec"]["template"]["spec"]
    (wait,) = deployment["initContainers"]
    assert "hexahub migrate --check" in " ".join(wait["command"])
    assert server(manifests)["args"] == ["hexahub", "serve"]


def test_without_the_job_the_pods_migrate_as_they_start() -> None:
    manifests = render(*VALUES_FILES["development"])
    assert "Job" not in kinds(manifests)
    assert "args" not in server(manifests)  # the image's default: migrate, then serve
    assert "initContainers" not in only(manifests, "Deployment")["spec"]["template"]["spec"]


def test_secrets_reach_the_service_as_files_never_as_values() -> None:
    manifests = render(*VALUES_FILES["production"])
    assert "Secret" not in kinds(manifests)  # values-production.yaml names its own
    container = server(manifests)
    variables = {env["name"]: env["value"] for env in container["env"]}
    for key in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET", "KEY_ENCRYPTION_KEYS"):
        assert variables[f"{key}_FILE"] == f"/run/secrets/hexahub/{key}"
        assert key not in variables
    (volume,) = [
        v
        for v in only(manifests, "Deployment")["spec"]["template"]["spec"]["volumes"]
        if "secret" in v
    ]
    assert volume["secret"]["secretName"] == "hexahub-secrets"


def test_secrets_can_be_plain_variables_instead() -> None:
    manifests = render(*VALUES_FILES["secrets as variables"])
    container = server(manifests)
    assert {"secretRef": {"name": "hexahub"}} in container["envFrom"]
    assert "env" not in container
    assert all(
        "secret" not in volume
        for volume in only(manifests, "Deployment")["spec"]["template"]["spec"]["volumes"]
    )


def test_generated_secrets_are_strong_and_the_config_carries_no_secret() -> None:
    manifests = render()
    data = {
        key: base64.b64decode(value) for key, value in only(manifests, "Secret")["data"].items()
    }
    assert len(data["JWT_SECRET"]) >= 32
    Fernet(data["KEY_ENCRYPTION_KEYS"])  # a usable key, not just any string
    annotations = only(manifests, "Secret")["metadata"]["annotations"]
    assert annotations["helm.sh/resource-policy"] == "keep"
    config = json.dumps(only(manifests, "ConfigMap")["data"])
    for secret in data.values():
        assert secret.decode() not in config


def test_the_development_values_run_postgres_and_redis_in_the_release() -> None:
    manifests = render(*VALUES_FILES["development"])
    statefulsets = {m["metadata"]["name"] for m in manifests if m["kind"] == "StatefulSet"}
    assert statefulsets == {"hexahub-postgres", "hexahub-redis"}
    data = only(manifests, "Secret")["data"]
    database = base64.b64decode(data["DATABASE_URL"]).decode()
    assert database.startswith("postgresql+asyncpg://hexahub:")
    assert database.endswith("@hexahub-postgres:5432/hexahub")
    assert base64.b64decode(data["REDIS_URL"]).decode() == "redis://hexahub-redis:6379/0"


def test_the_service_monitor_appears_only_where_its_crd_exists() -> None:
    production = render(*VALUES_FILES["production"], *WITH_CRD)
    monitor = only(production, "ServiceMonitor")["spec"]
    assert monitor["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]
    service = only(production, "Service")
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    without_crd = render(*VALUES_FILES["production"])
    assert "ServiceMonitor" not in kinds(without_crd)


def test_the_network_policy_admits_only_the_http_port() -> None:
    manifests = render(*VALUES_FILES["production"])
    policy = only(manifests, "NetworkPolicy")["spec"]
    pod_labels = only(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    (rule,) = policy["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert rule["from"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        ("replicaCount=0", "replicaCount"),
        ("confg.LOG_LEVEL=INFO", "confg"),
        ("config.JWT_SECRET=not-here", "JWT_SECRET"),
        ("database.url=mysql://db/hexahub", "database"),
        ("image.digest=latest", "digest"),
    ],
)
def test_the_values_schema_refuses_mistakes_before_anything_is_created(
    setting: str, complaint: str
) -> None:
    result = run(tool("helm"), "template", "hexahub", CHART, "--set", setting)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_the_chart_deploys_the_release_this_repository_builds() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert chart["appVersion"] == project["project"]["version"]
    assert server(render())["image"] == f"ghcr.io/hexahub/hexahub:{chart['appVersion']}"


def test_a_digest_pins_the_image() -> None:
    digest = "sha256:" + "ab" * 32
    assert server(render("--set", f"image.digest={digest}"))["image"].endswith(f"@{digest}")


def test_the_chart_readme_describes_every_top_level_value() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    missing = [key for key in values if f"`{key}" not in readme]
    assert missing == []


def test_the_schema_describes_every_default_value() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))

    def walk(value: Any, node: dict[str, Any], path: str) -> None:
        if not isinstance(value, dict) or node.get("additionalProperties") is not False:
            return
        for key, inner in value.items():
            assert key in node["properties"], f"{path}{key} is not in values.schema.json"
            walk(inner, node["properties"][key], f"{path}{key}.")

    walk(values, schema, "")
