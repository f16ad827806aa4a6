"""The API section's load client: non-blocking sockets driven from one selectors loop, a
fixed number of requests in flight."""

from __future__ import annotations

import json
import selectors
import socket
import time
from dataclasses import dataclass
from typing import Any

IN_FLIGHT = 16

DRAIN_S = 30.0  # how long requests still open at the end may take


@dataclass(frozen=True)
class LoadResult:
    accepted: int
    other: dict[int, int]
    seconds: float
    latencies_ms: list[float]
    client_cpu_s: float = 0.0  # the load client's own CPU while it drove the load
    server_cpu_s: float = 0.0  # gunicorn's (master and workers) over the same window
    postgres_cpu_s: float = 0.0  # the database's backends over the same window


def request(port: int, token: str, body: dict[str, Any]) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST /strategies HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + payload


class Exchange:
    """One request on its own connection: send it all, read until the server closes."""

    __slots__ = ("chunks", "request", "sent", "sock", "started")

    def __init__(self, port: int, request: bytes) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.connect_ex(("127.0.0.1", port))
        self.request = memoryview(request)
        self.sent = 0
        self.chunks: list[bytes] = []
        self.started = time.perf_counter()


def drive(port: int, requests: list[bytes], seconds: float) -> LoadResult:
    """Keep IN_FLIGHT requests open with non-blocking sockets and one epoll loop.

    The load client shares the 2 cores with the server, and gunicorn's sync worker waits
    for the client's FIN after each response: a client that costs little and closes at
    once leaves the workers more of the machine.
    """
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    selector = selectors.DefaultSelector()
    pending = iter(requests)
    deadline = time.perf_counter() + seconds

    def start() -> None:
        request = next(pending, None)
        if request is not None and time.perf_counter() < deadline:
            exchange = Exchange(port, request)
            selector.register(exchange.sock, selectors.EVENT_WRITE, exchange)

    def finish(exchange: Exchange) -> None:
        selector.unregister(exchange.sock)
        exchange.sock.close()
        latencies.append((time.perf_counter() - exchange.started) * 1000)
        response = b"".join(exchange.chunks)
        status = int(response[9:12]) if len(response) >= 12 else 0
        statuses[status] = statuses.get(status, 0) + 1
        start()

    started = time.perf_counter()
    cpu_started = time.process_time()
    for _ in range(IN_FLIGHT):
        start()
    while selector.get_map():
        if time.perf_counter() > deadline + DRAIN_S:
            # A server that stopped answering: count what is still open as failed.
            for key in list(selector.get_map().values()):
                finish(key.data)
            break
        for key, events in selector.select(timeout=1.0):
            exchange = key.data
            try:
                if events & selectors.EVENT_WRITE:
                    exchange.sent += exchange.sock.send(exchange.request[exchange.sent :])
                    if exchange.sent == len(exchange.request):
                        selector.modify(exchange.sock, selectors.EVENT_READ, exchange)
                    continue
                chunk = exchange.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""  # refused or reset: counted below as status 0
            if chunk:
                exchange.chunks.append(chunk)
            else:
                finish(exchange)
    elapsed = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_started
    selector.close()
    accepted = statuses.pop(202, 0)
    return LoadResult(accepted, statuses, elapsed, latencies, client_cpu)
