"""The running stack's settings in a file a shell can source (`. .local/env`), so that a
command by hand (`manage.py prune_commitlog --dry-run`, ...) reaches the same stack; the
file exists while the stack runs."""

from __future__ import annotations

import contextlib
import os
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from commitlog.conf import declarations

ENV_FILE = "env"
# Resolved by the run itself: the profile and where each service is.
STACK_NAMES = ("PROFILE", "DATABASE_URL", "CELERY_BROKER_URL", "COMMITLOG_BOOTSTRAP")
# The YAML file, and the commit log's own settings: its declarations, and the client's
# security options and signing keys, all named COMMITLOG_*.
EXTRA_PREFIX = "COMMITLOG_"


def stack_settings(env: Mapping[str, str]) -> dict[str, str]:
    """What a command needs to reach the stack `env` describes, in a stable order."""
    wanted = [*STACK_NAMES, "CONTROLPLANE_CONFIG"]
    wanted += [d.name for d in declarations() if not d.built]
    wanted += sorted(name for name in env if name.startswith(EXTRA_PREFIX))
    return {name: env[name] for name in dict.fromkeys(wanted) if env.get(name)}


def render(settings: Mapping[str, str]) -> str:
    """`export KEY=value` lines, each value quoted for a POSIX shell."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in settings.items())


def _shown(url: str) -> str:
    """`url` without its password, for the terminal."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def summary(settings: Mapping[str, str], *, embedded: set[str], web: str, path: Path) -> str:
    """Where each service of the stack is, and how a shell gets its settings."""

    def origin(name: str) -> str:
        return "embedded" if name in embedded else "configured"

    shown = str(path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path)
    rows = [
        ("web", f"{web}/ (admin {web}/admin/, API docs {web}/api/docs)"),
        ("PostgreSQL", f"{_shown(settings['DATABASE_URL'])} ({origin('DATABASE_URL')})"),
        ("Kafka", f"{settings['COMMITLOG_BOOTSTRAP']} ({origin('COMMITLOG_BOOTSTRAP')})"),
        ("Celery broker",
         f"{_shown(settings['CELERY_BROKER_URL'])} ({origin('CELERY_BROKER_URL')})"),
    ]  # fmt: skip
    lines = [f"[run]   {name:<14}{where}" for name, where in rows]
    return "\n".join([
        "[run] the stack:", *lines,
        f"[run] its settings are in {shown} while it runs; in another shell:",
        f"[run]   set -a; . {shown}; set +a",
        "[run]   .venv/bin/python manage.py prune_commitlog --dry-run   # for one",
    ])  # fmt: skip


@contextlib.contextmanager
def stack_env_file(state_dir: Path, env: Mapping[str, str]) -> Iterator[Path]:
    """Write the file (readable by its owner only: URLs and keys may hold secrets) for the
    context's lifetime, then remove it."""
    path = state_dir / ENV_FILE
    path.unlink(missing_ok=True)  # a crashed run's, possibly with other modes
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write("# The running bin/run's settings; removed when it stops.\n")
        file.write(render(stack_settings(env)))
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
