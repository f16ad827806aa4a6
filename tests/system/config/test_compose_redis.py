"""compose's Redis, run here with the machine's redis-server in compose's shape: its
command, the configuration file compose makes from REDIS_PASSWORD, and its health check."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from devstack.net import free_port
from devstack.process import ChildProcess, wait_for
from tests.support.compose import COMPOSE, REQUIRED_SECRETS, SERVICES, interpolate

SERVICE = SERVICES["redis"]
[MOUNT] = SERVICE["configs"]
PASSWORD = REQUIRED_SECRETS["REDIS_PASSWORD"]


def config_file(folder: Path, password: str) -> Path:
    """The file compose puts at the mount's target, made from the variable."""
    path = folder / "redis.conf"
    content = COMPOSE["configs"][MOUNT["source"]]["content"]
    path.write_text(interpolate(content, {**REQUIRED_SECRETS, "REDIS_PASSWORD": password}))
    return path


def connect(port: int, password: str | None = None) -> redis.Redis:
    # No retries: a refused password is the answer, not a fault to try again.
    return redis.Redis(port=port, password=password, socket_timeout=5, retry=Retry(NoBackoff(), 0))


def answers(port: int) -> bool:
    try:
        connect(port).ping()
    except redis.AuthenticationError:
        return True  # up, and asking for the password
    except redis.ConnectionError:
        return False
    return True


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, ChildProcess]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server on this machine")
    port = free_port()
    program, target = SERVICE["command"]
    assert (program, target) == ("redis-server", MOUNT["target"])
    config = config_file(tmp_path, PASSWORD)
    # compose's command with the file where compose mounts it; then this machine's own
    # listening address and data folder (the image's are the container's).
    argv = [binary, str(config), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path)]
    child = ChildProcess("redis", argv, env={"PATH": "/usr/bin:/bin"}, cwd=tmp_path,
                         log_path=tmp_path / "redis.log").start()  # fmt: skip
    try:
        wait_for(lambda: answers(port), 30, "redis-server to answer")
        yield port, child
    finally:
        child.stop()


def test_the_password_is_in_neither_its_command_line_nor_its_environment(
    server: tuple[int, ChildProcess],
) -> None:
    _, child = server
    for view in ("cmdline", "environ"):
        assert PASSWORD.encode() not in Path(f"/proc/{child.pid}/{view}").read_bytes(), view


def test_it_requires_the_password_from_its_configuration_file(
    server: tuple[int, ChildProcess],
) -> None:
    port, _ = server
    with pytest.raises(redis.AuthenticationError):
        connect(port).ping()
    with pytest.raises(redis.AuthenticationError):
        connect(port, "not-" + PASSWORD).ping()
    client = connect(port, PASSWORD)
    assert client.ping() is True
    assert client.config_get("appendonly") == {"appendonly": "yes"}


def health_check(port: int, config: Path) -> int:
    kind, line = SERVICE["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    # Compose's `$$` is the shell's `$`; the file is where this test wrote it, and
    # redis-cli is told this test's port (in the container it is the default, 6379).
    script = interpolate(line, {}).replace(MOUNT["target"], str(config))
    script = script.replace("redis-cli ", f"redis-cli -p {port} ")
    assert PASSWORD not in script
    return subprocess.run(["/bin/sh", "-c", script], timeout=30, check=False).returncode


def test_the_health_check_authenticates_with_the_password_of_the_file(
    server: tuple[int, ChildProcess], tmp_path: Path
) -> None:
    port, _ = server
    assert health_check(port, tmp_path / "redis.conf") == 0
    other = tmp_path / "other"
    other.mkdir()
    assert health_check(port, config_file(other, "another-password")) != 0
