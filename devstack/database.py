"""Which PostgreSQL to use: the configured one, the machine's, or an embedded one."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from devstack.postgres import EmbeddedPostgres, is_reachable

logger = logging.getLogger(__name__)

LOCAL_SERVICE_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def embedded_only() -> bool:
    """CONTROLPLANE_EMBEDDED=1: behave as on a machine with no services (ignore them)."""
    return os.environ.get("CONTROLPLANE_EMBEDDED", "") == "1"


@contextlib.contextmanager
def embedded_postgres(purpose: str, *, state_dir: Path, database: str) -> Iterator[str]:
    """The URL of `database` on the embedded server of `state_dir`, started for the
    context's lifetime; a server found already running there is used and left running
    (it is not ours to stop)."""
    server = EmbeddedPostgres(state_dir, durable=purpose == "run")
    print(f"[{purpose}] PostgreSQL: starting embedded server in {state_dir}", flush=True)
    server.start()
    if server.reused:
        print(f"[{purpose}] PostgreSQL: its server was already running on port {server.port}; "
              "it is left running", flush=True)  # fmt: skip
        yield server.ensure_database(database)
        return
    try:
        yield server.ensure_database(database)
    finally:
        server.stop()
        print(f"[{purpose}] PostgreSQL: embedded server stopped", flush=True)


@contextlib.contextmanager
def postgres_for(
    purpose: str, *, state_dir: Path, try_local_service: bool, database: str
) -> Iterator[str]:
    """Yield a reachable DATABASE_URL, starting (and later stopping) an embedded server
    when neither DATABASE_URL nor, if asked, the machine's own service answers."""
    configured = os.environ.get("DATABASE_URL", "").strip()
    if embedded_only():
        configured, try_local_service = "", False
    if configured:
        if is_reachable(configured):
            print(f"[{purpose}] PostgreSQL: DATABASE_URL (configured)", flush=True)
            yield configured
            return
        print(f"[{purpose}] DATABASE_URL is not reachable; using embedded PostgreSQL", flush=True)
    elif try_local_service and is_reachable(LOCAL_SERVICE_URL):
        print(f"[{purpose}] PostgreSQL: local service at 127.0.0.1:5432", flush=True)
        yield LOCAL_SERVICE_URL
        return
    with embedded_postgres(purpose, state_dir=state_dir, database=database) as url:
        yield url
