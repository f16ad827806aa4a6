"""docker-compose.yml, parsed once, and its ${VAR} interpolation."""

from __future__ import annotations

import re
import secrets
from typing import Any

import yaml

from tests.support.paths import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


SERVICES: dict[str, Any] = COMPOSE["services"]


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
}
