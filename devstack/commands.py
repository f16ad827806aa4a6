"""The local run and the test run, each bringing up what is not configured."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from devstack.brokers import kafka_for, redis_for
from devstack.database import postgres_for
from devstack.demo import seed
from devstack.supervisor import Supervisor

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local"
PYTHON = sys.executable


class StepFailed(Exception):
    """A set-up step exited non-zero; it has said why on its own output."""

    def __init__(self, returncode: int) -> None:
        super().__init__(returncode)
        self.returncode = returncode


def _manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT)  # noqa: S603
    if done.returncode != 0:
        raise StepFailed(done.returncode)


# What bin/run provides itself when unset: a configuration check before anything starts
# stands these in, so that it judges the rest of the configuration only.
_PROVIDED = {
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/controlplane",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "COMMITLOG_BOOTSTRAP": "127.0.0.1:9092",
}


def _configuration_problems(env: dict[str, str]) -> int:
    """0 when the settings load; otherwise the status of a process that named every problem."""
    check = {**env, **{name: value for name, value in _PROVIDED.items() if not env.get(name)}}
    loader = "from config.startup import load_settings_or_exit; load_settings_or_exit()"
    return subprocess.run([PYTHON, "-c", loader], env=check, cwd=ROOT).returncode  # noqa: S603


def _configured_bootstrap(env: dict[str, str]) -> str:
    """The bootstrap from COMMITLOG_BOOTSTRAP or the YAML file, as the processes will see it."""
    from config.yaml_file import load_gateway_config

    return load_gateway_config(env).commitlog_bootstrap


def run(*, port: int, demo: bool = False) -> int:
    env = dict(os.environ)
    env.setdefault("PROFILE", "dev")
    env.setdefault("PYTHONUNBUFFERED", "1")
    refused = _configuration_problems(env)
    if refused:
        return refused
    try:
        return _run(env, port=port, demo=demo)
    except StepFailed as failed:
        return failed.returncode


def _run(env: dict[str, str], *, port: int, demo: bool) -> int:
    STATE.mkdir(exist_ok=True)
    manage = [PYTHON, str(ROOT / "manage.py")]
    celery = [PYTHON, "-m", "celery", "-A", "config"]
    with (
        postgres_for(
            "run", state_dir=STATE / "postgres", try_local_service=False, database="controlplane"
        ) as database_url,
        kafka_for("run", state_dir=STATE, configured=_configured_bootstrap(env)) as bootstrap,
        redis_for("run", state_dir=STATE / "redis") as celery_broker,
    ):
        env.update(
            DATABASE_URL=database_url,
            COMMITLOG_BOOTSTRAP=bootstrap,
            CELERY_BROKER_URL=celery_broker,
        )
        base_url = f"http://127.0.0.1:{port}"
        _manage(env, "migrate", "--noinput")
        _manage(env, "ensure_commitlog_topic")
        operator = ["--state-file", str(STATE / "operator.json"), "--base-url", base_url]
        subprocess.run([PYTHON, "-m", "devstack.local_operator", *operator], env=env, check=True)  # noqa: S603
        web = [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"]
        worker = [*celery, "worker", "--concurrency", "1", "--without-gossip", "--without-mingle"]
        beat = [*celery, "beat", "--schedule", str(STATE / "celerybeat-schedule")]
        with Supervisor() as children:
            children.start("web", web, env, str(ROOT))
            children.start("worker", [*worker, "--loglevel", "INFO"], env, str(ROOT))
            children.start("beat", [*beat, "--loglevel", "INFO"], env, str(ROOT))
            children.start("consumer", [*manage, "consume_commitlog"], env, str(ROOT))
            print(
                f"[run] web on http://127.0.0.1:{port}/, Celery worker, beat and consumer running "
                "(Ctrl-C stops everything)",
                flush=True,
            )
            if demo:
                token = json.loads((STATE / "operator.json").read_text())["token"]
                print(f"[run] {seed(f'http://127.0.0.1:{port}', token)}", flush=True)
            return children.wait()


CHROMIUM = "/usr/bin/chromium"
# (program the tests run, Debian package that brings it, the tests that need it)
DEBIAN_TOOLS = (
    (CHROMIUM, "chromium", "the browser test"),
    ("/usr/bin/promtool", "prometheus", "the alerting rules' tests"),
    ("/usr/sbin/nginx", "nginx", "the slow-client test (the proxy of docker-compose.yml)"),
)


def _ensure_debian_tools() -> None:
    """Install what the system tests drive, where we may (root with apt)."""
    missing = [(pkg, need) for path, pkg, need in DEBIAN_TOOLS if not Path(path).exists()]
    if not missing or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    silent = subprocess.DEVNULL
    subprocess.run(
        ["apt-get", "update", "-qq"],  # noqa: S607
        env=env, check=False, stdout=silent, stderr=silent,
    )  # fmt: skip
    for package, need in missing:
        print(f"[test] installing Debian's {package} for {need}", flush=True)
        installed = subprocess.run(  # noqa: S603  (a package name of DEBIAN_TOOLS)
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],  # noqa: S607
            env=env, check=False, stdout=silent, stderr=silent,
        )  # fmt: skip
        if installed.returncode != 0:
            print(f"[test] could not install {package}: {need} will be skipped", flush=True)


def test(*, pytest_args: list[str]) -> int:
    env = dict(os.environ)
    if "--unit" in pytest_args:
        # The unit tier alone: no lint, no server, no browser; seconds.
        args = [arg for arg in pytest_args if arg not in ("--unit", "--")]
        if not any(arg.startswith("tests") for arg in args):
            args.append("tests/unit")  # its folder alone: no other tier's module is imported
        command = [PYTHON, "-m", "pytest", "-m", "unit", "-p", "no:cacheprovider", *args]
        env.setdefault("TEST_EXAMPLES_SCALE", "0.1")
        print(f"[test] {' '.join(command[2:])}", flush=True)
        return subprocess.run(command, cwd=ROOT, env=env).returncode  # noqa: S603
    _ensure_debian_tools()
    if env.get("SKIP_LINT") != "1":
        checks = [
            [PYTHON, "-m", "ruff", "check", "."],
            [PYTHON, "-m", "ruff", "format", "--check", "."],
            [PYTHON, "-m", "mypy", "."],
        ]
        for check in checks:
            print(f"[test] {' '.join(check[2:])}", flush=True)
            if subprocess.run(check, cwd=ROOT, env=env).returncode != 0:  # noqa: S603
                return 1
    with (
        tempfile.TemporaryDirectory(prefix="controlplane-test-pg-") as state_dir,
        postgres_for(
            "test", state_dir=Path(state_dir), try_local_service=True, database="postgres"
        ) as database_url,
    ):
        env["DATABASE_URL"] = database_url
        env.setdefault("DATABASE_TEST_NAME", f"test_controlplane_{os.getpid()}")
        args = [arg for arg in pytest_args if arg != "--"]
        command = [PYTHON, "-m", "pytest", *args]
        print(f"[test] {' '.join(command[2:])}", flush=True)
        return subprocess.run(command, cwd=ROOT, env=env).returncode  # noqa: S603
