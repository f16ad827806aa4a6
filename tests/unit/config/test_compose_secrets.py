"""docker-compose.yml's secrets and exposure: every variable it needs is in .env.example
with how to make it, Kafka passwords reach the app as secret files, Redis's as a
configuration file, and the observability pack listens on the loopback behind a login."""

from __future__ import annotations

import re
import subprocess

import pytest

from config.settings.strength import secret_key_weakness
from tests.support.compose import (
    APP_SERVICES,
    COMPOSE,
    REQUIRED_SECRETS,
    SECRETS_MOUNT,
    SERVICES,
    VARIABLE,
    granted_secrets,
    interpolate,
    secret_variable,
)
from tests.support.paths import ROOT

COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
EXAMPLE = ROOT / ".env.example"
OBSERVABILITY = ("prometheus", "grafana")


def example_entries() -> dict[str, tuple[bool, str, list[str]]]:
    """name -> (required, value, the comment lines above it), from .env.example: a required
    variable is a `NAME=` line, an optional one a commented `# NAME=default`."""
    entries: dict[str, tuple[bool, str, list[str]]] = {}
    comments: list[str] = []
    for line in EXAMPLE.read_text().splitlines():
        optional = re.fullmatch(r"# ([A-Z][A-Z0-9_]*)=(.*)", line)
        required = re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line)
        if match := required or optional:
            assert match[1] not in entries, f"{match[1]} twice in .env.example"
            entries[match[1]] = (required is not None, match[2], comments)
            comments = []
        elif line.startswith("#"):
            comments.append(line.lstrip("# "))
        else:
            comments = []
    return entries


def compose_variables() -> dict[str, tuple[str, str]]:
    """name -> (kind, default or message) of every ${VAR...} in the compose file."""
    return {name: (kind, rest) for name, kind, rest in VARIABLE.findall(COMPOSE_TEXT)}


def test_env_example_lists_every_variable_the_compose_file_needs_and_no_other() -> None:
    entries = example_entries()
    variables = compose_variables()
    required = {n for n, (kind, _) in variables.items() if kind == "?"}
    # A secret made from a variable (`environment:`) needs it as much as a ${VAR:?}.
    required |= {secret_variable(name) for name in COMPOSE.get("secrets", {})}
    assert {n for n, (is_required, _, _) in entries.items() if is_required} == required
    optional = {n: rest for n, (kind, rest) in variables.items() if kind == "-"}
    assert {n: v for n, (is_required, v, _) in entries.items() if not is_required} == optional
    for name in required:
        _, value, comments = entries[name]
        # Copied unchanged, the example must not start a stack: every required value blank.
        assert value == "", f"{name} has a value in .env.example"
        assert comments, f"{name}: no word in .env.example on how to make it"
    assert set(REQUIRED_SECRETS) | {"DJANGO_SECRET_KEY"} <= required


def maker(name: str) -> str:
    """The command .env.example gives for making the variable's value."""
    _, _, comments = example_entries()[name]
    commands = [m[1] for line in comments if (m := re.search(r"`([^`]+)`", line))]
    assert commands, f"{name}: no `command` in its comment"
    return commands[-1]


@pytest.mark.parametrize("name", sorted(set(REQUIRED_SECRETS) | {"DJANGO_SECRET_KEY"}))
def test_each_value_made_as_env_example_says_is_one_the_stack_accepts(name: str) -> None:
    # The command as an operator pastes it into a shell.
    made = subprocess.run(["/bin/sh", "-c", maker(name)], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()  # fmt: skip
    if name == "DJANGO_SECRET_KEY":
        assert secret_key_weakness(made) is None
    elif name == "KAFKA_CLUSTER_ID":
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", made), made  # kafka-storage.sh's form
    else:
        # Pasted into URLs and JAAS strings (deploy/kafka/start.sh refuses anything else).
        assert re.fullmatch(r"[A-Za-z0-9_-]{32,}", made), made


@pytest.mark.parametrize("service", OBSERVABILITY)
def test_the_observability_ports_listen_on_the_loopback_unless_told(service: str) -> None:
    [port] = SERVICES[service]["ports"]
    assert interpolate(port, {}).startswith("127.0.0.1:"), port
    assert interpolate(port, {"OBSERVABILITY_BIND": "0.0.0.0"}).startswith("0.0.0.0:"), port  # noqa: S104


def test_grafana_asks_for_a_login_whose_password_is_required() -> None:
    env = SERVICES["grafana"]["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert env.get("GF_AUTH_DISABLE_LOGIN_FORM", "false") == "false"
    with pytest.raises(AssertionError, match="GRAFANA_ADMIN_PASSWORD"):
        interpolate(env["GF_SECURITY_ADMIN_PASSWORD"], {})
    password = REQUIRED_SECRETS["GRAFANA_ADMIN_PASSWORD"]
    given = {"GRAFANA_ADMIN_PASSWORD": password}
    assert interpolate(env["GF_SECURITY_ADMIN_PASSWORD"], given) == password


@pytest.mark.parametrize("service", APP_SERVICES)
def test_the_kafka_password_reaches_each_app_service_as_its_principals_secret_file(
    service: str,
) -> None:
    spec = SERVICES[service]
    user = spec["environment"]["COMMITLOG_SASL_USERNAME"]
    secret = f"kafka_{user}_password"
    assert "COMMITLOG_SASL_PASSWORD" not in spec["environment"]
    assert spec["environment"]["COMMITLOG_SASL_PASSWORD_FILE"] == SECRETS_MOUNT + secret
    assert granted_secrets(service) == [secret]  # its own principal's and no other
    # Readable by the image's user: older compose releases default to 0400 for root.
    assert spec["secrets"] == [{"source": secret, "mode": 0o444}]
    assert secret_variable(secret) == f"KAFKA_{user.upper()}_PASSWORD"


def test_redis_reads_its_password_from_a_configuration_file_not_its_command_line() -> None:
    redis = SERVICES["redis"]
    assert "REDIS_PASSWORD" not in " ".join(redis["command"])
    assert "REDISCLI_AUTH" not in (redis.get("environment") or {})
    [mounted] = redis["configs"]
    assert mounted["mode"] == 0o444  # the entrypoint runs redis-server as its own user
    assert redis["command"] == ["redis-server", mounted["target"]]
    content = interpolate(COMPOSE["configs"][mounted["source"]]["content"], REQUIRED_SECRETS)
    assert f"requirepass {REQUIRED_SECRETS['REDIS_PASSWORD']}\n" in content


def test_prometheus_starts_only_after_its_configuration_and_token_are_checked() -> None:
    prometheus, check = SERVICES["prometheus"], SERVICES["prometheus-config"]
    assert prometheus["depends_on"]["prometheus-config"] == {
        "condition": "service_completed_successfully"
    }
    assert check["image"] == prometheus["image"]  # its promtool, of the same release
    assert check["profiles"] == prometheus["profiles"]
    # The folder is mounted, never the token file: Docker makes a missing file's path a
    # directory on the host.
    for spec in (prometheus, check):
        assert spec["volumes"] == ["./deploy/prometheus:/etc/prometheus/controlplane:ro"]
    assert "--config.file=/etc/prometheus/controlplane/prometheus.yml" in prometheus["command"]


def test_the_filled_in_secrets_stay_out_of_git_and_the_build_context() -> None:
    for ignore in (".gitignore", ".dockerignore"):
        lines = (ROOT / ignore).read_text().splitlines()
        assert ".env" in lines, ignore
        assert "deploy/prometheus/token" in lines, ignore
