"""Gateway configuration: the optional YAML file, overridden by the environment.

Kept free of Django so that settings.py, the launcher and tests can all load it
the same way, and so that a bad configuration is one clear line, not a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from django.core.exceptions import ImproperlyConfigured

from commitlog.conf import CommitLogSettings

Profile = Literal["dev", "prod"]
PROFILES: tuple[Profile, ...] = ("dev", "prod")

# The YAML file's `gateway` keys: commitlog's settings of the same names (upper-cased as
# environment variables); their defaults are commitlog's own (commitlog.conf).
_GATEWAY_KEYS = (
    "commitlog_bootstrap",
    "commitlog_topic",
    "commitlog_group",
    "commitlog_transactional_id",
)
_REQUIRED_IN_PROD = ("commitlog_bootstrap", "commitlog_topic")


class ConfigError(ImproperlyConfigured):
    """A configuration that no process may start with: every problem found, one line each."""

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class GatewayConfig:
    """The profile and the commit log's four keys, as the file and the environment say."""

    profile: Profile
    commitlog_bootstrap: str
    commitlog_topic: str
    commitlog_group: str
    commitlog_transactional_id: str
    # Keys of the file that nothing reads (typos, or keys outside `gateway`).
    unknown_keys: tuple[str, ...] = ()

    @property
    def writer_enabled(self) -> bool:
        return CommitLogSettings(
            commitlog_bootstrap=self.commitlog_bootstrap, commitlog_topic=self.commitlog_topic
        ).writer_enabled


def _read_yaml(path: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"CONTROLPLANE_CONFIG={path}: no such file")
    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else "invalid YAML"
        raise ConfigError(f"CONTROLPLANE_CONFIG={path}: {first_line}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"CONTROLPLANE_CONFIG={path}: top level must be a mapping")
    gateway = loaded.get("gateway", {})
    if gateway is not None and not isinstance(gateway, dict):
        raise ConfigError(f"CONTROLPLANE_CONFIG={path}: `gateway` must be a mapping")
    return loaded


def env_value(environ: Mapping[str, str], name: str) -> str | None:
    # An empty variable counts as unset, so `X=${X:-}` in compose files keeps the file's value.
    value = environ.get(name, "").strip()
    return value or None


def _yaml_string(value: object, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"gateway.{key} must be a string")
    return str(value).strip()


_KNOWN_TOP_LEVEL = ("profile", "gateway")


def _unknown_keys(document: dict[str, Any]) -> tuple[str, ...]:
    found = [f"{key} (top level)" for key in document if key not in _KNOWN_TOP_LEVEL]
    found += [f"gateway.{key}" for key in document.get("gateway") or {} if key not in _GATEWAY_KEYS]
    return tuple(found)


def load_gateway_config(
    environ: Mapping[str, str] | None = None, *, problems: list[str] | None = None
) -> GatewayConfig:
    """Build the gateway configuration; raises ConfigError naming what is wrong. With
    `problems`, the settings prod requires and lacks are added to it instead, all of them,
    and the rest of the configuration is still read."""
    env = os.environ if environ is None else environ
    config_path = env_value(env, "CONTROLPLANE_CONFIG")
    document = _read_yaml(config_path) if config_path else {}
    gateway = document.get("gateway") or {}

    profile_raw = env_value(env, "PROFILE") or _yaml_string(document.get("profile"), "profile")
    profile = (profile_raw or "dev").lower()
    if profile not in PROFILES:
        raise ConfigError(f"profile must be one of {', '.join(PROFILES)}, got {profile_raw!r}")

    defaults = CommitLogSettings()
    values: dict[str, str] = {}
    for key in _GATEWAY_KEYS:
        from_env = env_value(env, key.upper())
        if from_env is not None:
            values[key] = from_env
        elif key in gateway:
            values[key] = _yaml_string(gateway[key], key)
        else:
            values[key] = getattr(defaults, key)

    missing = [
        f"profile prod requires {key} (gateway.{key} in the config file or {key.upper()})"
        for key in _REQUIRED_IN_PROD
        if profile == "prod" and not values[key]
    ]
    if missing and problems is None:
        raise ConfigError(*missing)
    if problems is not None:
        problems.extend(missing)

    return GatewayConfig(profile=profile, unknown_keys=_unknown_keys(document), **values)
