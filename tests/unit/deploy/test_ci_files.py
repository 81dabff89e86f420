"""The CI workflows, the devcontainer and the Makefile: valid for the tools that read them,
and doing what .ci/run does (`make lint`, then `make test` with the real-server suites
made mandatory by CI=true)."""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy.tools import ROOT, run, tool

WORKFLOWS = ROOT / ".github" / "workflows"
CI_WORKFLOW = WORKFLOWS / "ci.yml"
CHART_WORKFLOW = WORKFLOWS / "chart.yml"
DEVCONTAINER = ROOT / ".devcontainer"


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = job["steps"]
    return found


def commands(job: dict[str, Any]) -> list[str]:
    return [line.strip() for step in steps(job) for line in step.get("run", "").splitlines()]


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in steps(job) if step.get("uses", "").startswith(f"{action}@")]


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.github-workflows", sorted(WORKFLOWS.glob("*.yml"))),
        ("vendor.dependabot", [ROOT / ".github" / "dependabot.yml"]),
    ],
)
def test_the_files_match_githubs_published_schemas(schema: str, files: list[Path]) -> None:
    assert files
    result = run(tool("check-jsonschema"), "--builtin-schema", schema, *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_what_ci_run_runs() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^export CI=true$", script, re.MULTILINE)
    local = [line for line in script.splitlines() if line.startswith("make ")]
    jobs = load(CI_WORKFLOW)["jobs"]
    remote = [c for job in ("lint", "test") for c in commands(jobs[job]) if c.startswith("make ")]
    assert remote == local == ["make lint", "make test"]
    assert jobs["test"]["env"]["CI"] == "true"


def test_the_test_job_gives_the_suites_postgres_and_redis() -> None:
    job = load(CI_WORKFLOW)["jobs"]["test"]
    services = job["services"]
    published = {name: int(service["ports"][0].split(":")[0]) for name, service in services.items()}
    for variable, service in (("TEST_POSTGRES_URL", "postgres"), ("TEST_REDIS_URL", "redis")):
        url = job["env"][variable]
        assert f"127.0.0.1:{published[service]}/" in url, variable
        assert "--health-cmd" in services[service]["options"]  # the job waits for them
    assert job["env"]["TEST_POSTGRES_URL"].endswith(
        f"/{services['postgres']['env']['POSTGRES_DB']}"
    )
    # The fault suite starts its own servers from these packages.
    assert any("postgresql" in c and "redis-server" in c for c in commands(job))


def test_the_image_is_built_scanned_described_and_pushed_only_for_tags() -> None:
    workflow = load(CI_WORKFLOW)
    assert workflow[True]["push"]["tags"] == ["v*"]  # YAML reads the key `on` as True
    job = workflow["jobs"]["image"]
    assert set(job["needs"]) == {"lint", "test"}
    (build, push) = uses(job, "docker/build-push-action")
    assert build["with"]["file"] == push["with"]["file"] == "deploy/Dockerfile"
    assert build["with"].get("push", False) is False
    (scan,) = uses(job, "aquasecurity/trivy-action")
    assert scan["with"]["image-ref"] == build["with"]["tags"]
    assert set(scan["with"]["severity"].split(",")) == {"HIGH", "CRITICAL"}
    assert scan["with"]["exit-code"] == "1"
    (sbom,) = uses(job, "anchore/sbom-action")
    assert sbom["with"]["image"] == build["with"]["tags"]
    order = steps(job)
    assert order.index(scan) < order.index(push)
    assert push["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert push["with"]["push"] is True
    assert job["permissions"]["packages"] == "write"


def test_the_chart_workflow_uses_the_helm_the_tests_use() -> None:
    workflow = load(CHART_WORKFLOW)
    wanted = workflow["env"]["HELM_VERSION"]
    version = run(tool("helm"), "version", "--template", "{{ .Version }}")
    assert version.stdout.strip() == wanted
    lint = workflow["jobs"]["lint"]
    linted = " ".join(c for c in commands(lint) if c.startswith("helm lint"))
    for values in ("values-production.yaml", "values-dev.yaml"):
        assert values in linted
    install = " ".join(commands(workflow["jobs"]["install"]))
    assert "helm install" in install
    assert "hexahub create-admin" in install
    assert "/api/v1/auth/login" in install


def devcontainer() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DEVCONTAINER / "devcontainer.json").read_text())
    return loaded


def test_the_devcontainer_gives_make_test_its_postgres_and_redis() -> None:
    config = devcontainer()
    compose = load(DEVCONTAINER / config["dockerComposeFile"])
    services = compose["services"]
    dev = services[config["service"]]
    assert set(config["runServices"]) == set(services)
    env = dev["environment"]
    postgres = re.fullmatch(
        r"postgresql\+asyncpg://postgres@(\w+):5432/(\w+)", env["TEST_POSTGRES_URL"]
    )
    assert postgres
    assert postgres.group(1) in services
    assert services[postgres.group(1)]["environment"]["POSTGRES_DB"] == postgres.group(2)
    assert services[postgres.group(1)]["environment"]["POSTGRES_HOST_AUTH_METHOD"] == "trust"
    redis = re.fullmatch(r"redis://(\w+):6379/0", env["TEST_REDIS_URL"])
    assert redis
    assert redis.group(1) in services
    assert any(v.startswith(f"..:{config['workspaceFolder']}") for v in dev["volumes"])
    for name in dev["depends_on"]:
        assert services[name]["healthcheck"]["test"]


def test_the_devcontainer_image_has_what_the_fault_suite_starts() -> None:
    dockerfile = (DEVCONTAINER / "Dockerfile").read_text(encoding="utf-8")
    for package in ("postgresql", "redis-server", "make"):
        assert re.search(rf"\b{package}\b", dockerfile), package
    base = re.compile(r"^ARG PYTHON_IMAGE=(\S+)$", re.MULTILINE)
    deploy = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert base.findall(dockerfile) == base.findall(deploy)
    result = run(tool("hadolint"), "--failure-threshold", "warning", DEVCONTAINER / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_devcontainer_set_up_command_is_a_make_target() -> None:
    command = devcontainer()["postCreateCommand"]
    assert command.startswith("make ")
    (target,) = command.split()[1:]
    assert target in phony_targets()


def phony_targets() -> list[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (line,) = re.findall(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    return line.split()


def test_make_help_lists_every_target() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^make (\S+)\s+\S", result.stdout, re.MULTILINE)
    assert sorted(listed) == sorted(phony_targets())
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    defined = re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE)
    assert sorted(defined) == sorted(phony_targets())  # nothing defined but unlisted
