"""bin/run: the whole system on one machine, on configured services or embedded ones."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from devstack.brokers import kafka_for, redis_for
from devstack.database import embedded_only, embedded_postgres
from devstack.demo import seed
from devstack.envfile import stack_env_file, summary
from devstack.preflight import Configured, configured_services, preflight
from devstack.runlock import AlreadyRunning, run_lock
from devstack.supervisor import StopRequested, Supervisor

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local"
PYTHON = sys.executable


class StepFailed(Exception):
    """A set-up step exited non-zero; it has said why on its own output."""

    def __init__(self, returncode: int) -> None:
        super().__init__(returncode)
        self.returncode = returncode


def _step(env: dict[str, str], *argv: str) -> None:
    done = subprocess.run([PYTHON, *argv], env=env, cwd=ROOT)  # noqa: S603
    if done.returncode != 0:
        raise StepFailed(done.returncode)


def _database(configured: Configured, state_dir: Path) -> contextlib.AbstractContextManager[str]:
    if configured.database_url:
        print("[run] PostgreSQL: DATABASE_URL (configured)", flush=True)
        return contextlib.nullcontext(configured.database_url)
    return embedded_postgres("run", state_dir=state_dir / "postgres", database="controlplane")


def _embedded(configured: Configured) -> set[str]:
    """The settings whose service the run embeds (the configuration names none)."""
    named = {
        "DATABASE_URL": configured.database_url,
        "CELERY_BROKER_URL": configured.celery_broker_url,
        "COMMITLOG_BOOTSTRAP": configured.commitlog_bootstrap,
    }
    return {name for name, value in named.items() if not value}


def run(*, port: int, demo: bool = False, state_dir: Path = STATE) -> int:
    env = dict(os.environ)
    env.setdefault("PROFILE", "dev")
    env.setdefault("PYTHONUNBUFFERED", "1")
    try:
        with run_lock(state_dir, port=port):
            configured = configured_services(env, ignore_database_url=embedded_only())
            refused = preflight(env, configured)
            if refused:
                return refused
            return _run(env, configured, port=port, demo=demo, state_dir=state_dir)
    except AlreadyRunning as running:
        sys.stderr.write(f"controlplane: {running}\n")
        return 1
    except StepFailed as failed:
        return failed.returncode
    except StopRequested:
        return 0  # SIGTERM or Ctrl-C before the supervisor waited: stopped all the same
    except KeyboardInterrupt:
        # Ctrl-C while setting up (the children's own stop is the supervisor's): the
        # servers started so far were stopped on the way out.
        return 130


@contextlib.contextmanager
def _services(env: dict[str, str], configured: Configured, state_dir: Path) -> Iterator[None]:
    """The three services for the run's lifetime, their addresses set in `env`."""
    with (
        _database(configured, state_dir) as database_url,
        kafka_for("run", state_dir=state_dir, configured=configured.commitlog_bootstrap) as kafka,
        redis_for(
            "run", state_dir=state_dir / "redis", configured=configured.celery_broker_url
        ) as celery_broker,
    ):
        env.update(
            DATABASE_URL=database_url,
            COMMITLOG_BOOTSTRAP=kafka,
            CELERY_BROKER_URL=celery_broker,
        )
        yield


def _run(
    env: dict[str, str], configured: Configured, *, port: int, demo: bool, state_dir: Path
) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    manage = [PYTHON, str(ROOT / "manage.py")]
    celery = [PYTHON, "-m", "celery", "-A", "config"]
    with _services(env, configured, state_dir):
        base_url = f"http://127.0.0.1:{port}"
        _step(env, str(ROOT / "manage.py"), "migrate", "--noinput")
        _step(env, str(ROOT / "manage.py"), "ensure_commitlog_topic")
        operator_file = state_dir / "operator.json"
        operator = ["--state-file", str(operator_file), "--base-url", base_url]
        _step(env, "-m", "devstack.local_operator", *operator)
        web = [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"]
        worker = [*celery, "worker", "--concurrency", "1", "--without-gossip", "--without-mingle"]
        beat = [*celery, "beat", "--schedule", str(state_dir / "celerybeat-schedule")]
        with stack_env_file(state_dir, env) as env_file, Supervisor() as children:
            # Stopped in this order: the writers first, the reader of the log last.
            children.start("web", web, env, str(ROOT))
            children.start("beat", [*beat, "--loglevel", "INFO"], env, str(ROOT))
            children.start("worker", [*worker, "--loglevel", "INFO"], env, str(ROOT))
            children.start("consumer", [*manage, "consume_commitlog"], env, str(ROOT))
            print(summary(env, embedded=_embedded(configured), web=base_url, path=env_file))
            print(
                f"[run] web on {base_url}/, Celery worker, beat and consumer running "
                "(Ctrl-C stops everything)",
                flush=True,
            )
            if demo:
                token = json.loads(operator_file.read_text())["token"]
                print(f"[run] {seed(base_url, token)}", flush=True)
            return children.wait()
