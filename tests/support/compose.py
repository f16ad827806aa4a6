"""docker-compose.yml, parsed once, and its ${VAR} interpolation."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import yaml

from tests.support.paths import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


SERVICES: dict[str, Any] = COMPOSE["services"]


VARIABLE = re.compile(r"(?<!\$)\$\{(\w+)(?::([-?])([^}]*))?\}")
_ESCAPED_OR_VARIABLE = re.compile(r"\$\$|" + VARIABLE.pattern)


def interpolate(value: str, given: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}, with `given` as the shell env;
    `$$` is a literal `$`."""

    def one(match: re.Match[str]) -> str:
        if match[0] == "$$":
            return "$"
        name, kind, rest = match.groups()
        if given.get(name):
            return given[name]
        if kind == "-":
            return rest
        raise AssertionError(f"{name} must be set: {rest}")

    return _ESCAPED_OR_VARIABLE.sub(one, value)


SECRETS_MOUNT = "/run/secrets/"


def secret_variable(secret: str) -> str:
    """The variable a top-level secret is made from (`environment:`)."""
    return str(COMPOSE["secrets"][secret]["environment"])


def granted_secrets(service: str) -> list[str]:
    """The names of the secrets the service is given (short or long syntax)."""
    grants = SERVICES[service].get("secrets", [])
    return [grant if isinstance(grant, str) else grant["source"] for grant in grants]


def service_environment(service: str, given: dict[str, str], secrets_dir: Path) -> dict[str, str]:
    """The environment compose gives the service, with its secrets written to files in
    `secrets_dir` (where compose mounts them at /run/secrets) and the paths moved there."""
    for secret in granted_secrets(service):
        (secrets_dir / secret).write_text(given[secret_variable(secret)])
    return {
        key: interpolate(str(value), given).replace(SECRETS_MOUNT, f"{secrets_dir}/")
        for key, value in (SERVICES[service].get("environment") or {}).items()
    }


APP_SERVICES = [name for name, spec in SERVICES.items() if spec.get("build") == "."]


# Every secret the operator must give; none has a default anywhere in the file.
REQUIRED_SECRETS = {
    "POSTGRES_PASSWORD": "pg-" + secrets.token_hex(8),
    "REDIS_PASSWORD": "redis-" + secrets.token_hex(8),
    "KAFKA_ADMIN_PASSWORD": "admin-" + secrets.token_hex(8),
    "KAFKA_RELAY_PASSWORD": "relay-" + secrets.token_hex(8),
    "KAFKA_READER_PASSWORD": "reader-" + secrets.token_hex(8),
    "KAFKA_CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qk",
    "COMMITLOG_SIGNING_KEY": "sign-" + secrets.token_urlsafe(32),
    "GRAFANA_ADMIN_PASSWORD": "grafana-" + secrets.token_hex(8),
}
