"""The burst section's request stream: `POST /strategies` at a steady rate, one request at
a time on a fresh connection, each request's latency noted; runs in a process of its own
so that its timing does not share the benchmark process's GIL."""

from __future__ import annotations

import socket
import time
from multiprocessing.connection import Connection

from bench.load_client import request


def _exchange(port: int, payload: bytes) -> int:
    """Send one request and read the answer to its end; returns the status code."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(payload)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


def paced(
    port: int, token: str, first: int, per_second: float, out: Connection, stop: Connection
) -> None:
    """Requests on a fixed schedule until told to stop; sends (latencies ms, non-202 count).

    A request that would start behind its schedule starts at once (the wait it had is not
    counted: the latencies are the server's answers, not a client's queueing)."""
    from bench.workload import request_body

    interval = 1.0 / per_second
    latencies: list[float] = []
    refused = 0
    serial = first
    out.send("ready")
    next_at = time.perf_counter()
    while not stop.poll():
        payload = request(port, token, request_body(serial, "burst"))
        serial += 1
        pause = next_at - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        started = time.perf_counter()
        status = _exchange(port, payload)
        latencies.append((time.perf_counter() - started) * 1000)
        if status != 202:
            refused += 1
        next_at = max(next_at + interval, time.perf_counter() - interval)
    out.send((latencies, refused))
    out.close()
