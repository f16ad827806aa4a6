"""What bin/run checks before it starts any server: the whole configuration, and that
every configured service answers. Every problem is named, one line each, at once."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from config.startup import EXIT_STATUS, report
from config.yaml_file import ConfigError, load_gateway_config
from devstack.reach import celery_broker_problem, database_problem, kafka_problem

ROOT = Path(__file__).resolve().parent.parent

# What bin/run embeds when unset, in the dev profile: the configuration check stands these
# in, so that it judges the rest of the configuration only. The prod profile gets no stand-in:
# it runs on configured services, and names each one that is missing.
PROVIDED = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/controlplane",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "COMMITLOG_BOOTSTRAP": "127.0.0.1:9092",
}


@dataclass(frozen=True)
class Configured:
    """The services the configuration names (empty: bin/run embeds one)."""

    database_url: str
    celery_broker_url: str
    commitlog_bootstrap: str


def _profile(env: dict[str, str]) -> str | None:
    try:
        return load_gateway_config(env, problems=[]).profile
    except ConfigError:
        return None  # the settings' check names what is wrong with the file or the profile


def _settings_refused(env: dict[str, str]) -> bool:
    """Load the settings in a process of their own, as each service will; it writes every
    problem on stderr. True when it refused."""
    stand_ins = {} if _profile(env) == "prod" else PROVIDED
    check = {**env, **{name: value for name, value in stand_ins.items() if not env.get(name)}}
    loader = "from config.startup import load_settings_or_exit; load_settings_or_exit()"
    return subprocess.run([sys.executable, "-c", loader], env=check, cwd=ROOT).returncode != 0  # noqa: S603


def configured_services(env: dict[str, str], *, ignore_database_url: bool) -> Configured:
    try:
        bootstrap = load_gateway_config(env, problems=[]).commitlog_bootstrap
    except ConfigError:
        bootstrap = env.get("COMMITLOG_BOOTSTRAP", "").strip()
    return Configured(
        database_url="" if ignore_database_url else env.get("DATABASE_URL", "").strip(),
        celery_broker_url=env.get("CELERY_BROKER_URL", "").strip(),
        commitlog_bootstrap=bootstrap,
    )


def _service_problems(configured: Configured) -> list[str]:
    found = []
    # A URL the settings refused (not postgres://...) is named by them already.
    if configured.database_url.startswith(("postgres://", "postgresql://")):
        found.append(database_problem(configured.database_url))
    if configured.celery_broker_url:
        found.append(celery_broker_problem(configured.celery_broker_url))
    if configured.commitlog_bootstrap:
        found.append(kafka_problem(configured.commitlog_bootstrap))
    return [problem for problem in found if problem]


def preflight(env: dict[str, str], configured: Configured) -> int:
    """0 when bin/run may start; else EXIT_STATUS, every problem written on stderr."""
    refused = _settings_refused(env)
    unreachable = _service_problems(configured)
    report(unreachable)
    return EXIT_STATUS if refused or unreachable else 0
