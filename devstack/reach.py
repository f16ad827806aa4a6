"""Whether a configured service answers, and if not, where it was looked for and why it
did not answer: bin/run uses what is configured or stops, never a silent stand-in."""

from __future__ import annotations

import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import psycopg
import redis

TIMEOUT_S = 3.0
# Where a URL without a port points, by scheme (the services' own defaults).
DEFAULT_PORTS = {
    "postgres": 5432,
    "postgresql": 5432,
    "redis": 6379,
    "rediss": 6379,
    "amqp": 5672,
    "amqps": 5671,
}
KAFKA_PORT = 9092


def _tcp_reason(host: str, port: int) -> str | None:
    """None when a TCP connection opens, else why it did not."""
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S):
            return None
    except socket.gaierror as exc:
        return f"the host name does not resolve ({exc.strerror})"
    except TimeoutError:
        return f"no answer in {TIMEOUT_S:.0f}s"
    except OSError as exc:
        return exc.strerror or str(exc)


def _first_line(exc: Exception) -> str:
    # psycopg's text repeats the address before the reason ("... port 5432 failed: FATAL: ...").
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return line.rsplit("failed: ", 1)[-1].strip()


def _address(url: str) -> tuple[str, int] | str:
    """(host, port) of a service URL, or why it has none."""
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return "its port is not a number"
    if not parts.hostname or port is None:
        return "it names no host and port"
    return parts.hostname, port


def _service_problem(
    setting: str,
    service: str,
    url: str,
    handshake: Callable[[], object] | None,
    errors: type[Exception],
) -> str | None:
    """Why `url` (the value of `setting`) does not reach `service`, or None: its port must
    accept a connection, and then `handshake` (a login, a PING), if any, succeed."""
    where = _address(url)
    if isinstance(where, str):
        return f"{setting}: cannot reach {service}: {where}"
    host, port = where
    reason = _tcp_reason(host, port)
    if reason is None and handshake is not None:
        try:
            handshake()
        except errors as exc:
            reason = _first_line(exc)
    if reason is None:
        return None
    return f"{setting}: cannot reach {service} at {host}:{port}: {reason}"


def database_problem(url: str) -> str | None:
    """Why DATABASE_URL's PostgreSQL cannot be used, or None."""

    def login() -> None:
        psycopg.connect(url, connect_timeout=int(TIMEOUT_S)).close()

    return _service_problem("DATABASE_URL", "PostgreSQL", url, login, psycopg.Error)


def celery_broker_problem(url: str) -> str | None:
    """Why CELERY_BROKER_URL cannot be used, or None (Redis is asked a PING; another
    broker's port must accept a connection)."""

    def ping() -> None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S
        )
        client.ping()
        client.close()

    handshake = ping if urlsplit(url).scheme.startswith("redis") else None
    return _service_problem(
        "CELERY_BROKER_URL", "the Celery broker", url, handshake, redis.RedisError
    )


def kafka_problem(bootstrap: str) -> str | None:
    """Why none of the bootstrap servers accepts a connection, or None (one is enough:
    the client learns the others from it)."""
    reasons = []
    for server in (part.strip() for part in bootstrap.split(",") if part.strip()):
        host, _, port_text = server.rpartition(":") if ":" in server else (server, "", "")
        port = int(port_text) if port_text.isdigit() else KAFKA_PORT
        reason = _tcp_reason(host.strip("[]") or server, port)
        if reason is None:
            return None
        reasons.append(f"{host or server}:{port}: {reason}")
    if not reasons:
        return "COMMITLOG_BOOTSTRAP: names no server"
    return f"COMMITLOG_BOOTSTRAP: cannot reach the Kafka broker at {'; '.join(reasons)}"
