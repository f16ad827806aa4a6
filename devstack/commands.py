"""The test run (bin/test), bringing up what is not configured; the local run is
devstack.launch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from devstack.database import postgres_for

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

CHROMIUM = "/usr/bin/chromium"
# (program the tests run, Debian package that brings it, the tests that need it)
DEBIAN_TOOLS = (
    (CHROMIUM, "chromium", "the browser test"),
    ("/usr/bin/promtool", "prometheus", "the alerting rules' tests"),
    ("/usr/sbin/nginx", "nginx", "the slow-client test (the proxy of docker-compose.yml)"),
    # The official image has it built in; Debian's nginx loads it (tests/support/nginx.py).
    (
        "/usr/lib/nginx/modules/ngx_stream_module.so",
        "libnginx-mod-stream",
        "the proxy tests (its per-address connection cap is a stream server)",
    ),
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
