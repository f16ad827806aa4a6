"""The fault proxy in a process of its own, driven over a pipe: the campaign's load
clients then do not share an interpreter (and its lock) with the traffic they fault, so
the proxy adds no delay of its own when the load is high."""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.connection import Connection
from typing import Any

from reliability.proxy import FaultProxy


def _serve(conn: Connection) -> None:
    proxy = FaultProxy().start()
    try:
        while True:
            try:
                command, args = conn.recv()
            except EOFError:
                return  # the campaign went away
            if command == "stop":
                return
            try:
                if command == "add":
                    result: Any = proxy.add(*args).port
                elif command == "clear_all":
                    proxy.clear_all()
                    result = None
                else:
                    name, method, call_args = args
                    result = getattr(proxy.links[name], method)(*call_args)
            except Exception as exc:  # sent back to the caller
                conn.send((False, repr(exc)))
            else:
                conn.send((True, result))
    finally:
        proxy.stop()


class RemoteLink:
    """A link of the proxy process: the fault switches of `reliability.proxy.Link`."""

    def __init__(self, process: ProxyProcess, name: str, upstream_port: int, port: int) -> None:
        self._process = process
        self.name = name
        self.upstream_port = upstream_port
        self.port = port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _call(self, method: str, *args: Any) -> Any:
        return self._process.request("link", (self.name, method, args))

    def set_latency(self, low_s: float, high_s: float) -> None:
        self._call("set_latency", low_s, high_s)

    def set_bandwidth(self, bytes_per_s: int) -> None:
        self._call("set_bandwidth", bytes_per_s)

    def set_blackhole(self, on: bool) -> None:
        self._call("set_blackhole", on)

    def reset_connections(self, within_bytes: int | None = None) -> None:
        self._call("reset_connections", within_bytes)

    def lift(self, kind: str) -> None:
        self._call("lift", kind)

    def clear(self) -> None:
        self._call("clear")


class ProxyProcess:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._lock = threading.Lock()  # fault timers call from their own threads
        self.links: dict[str, RemoteLink] = {}

    def start(self) -> ProxyProcess:
        self._process.start()
        return self

    def request(self, command: str, args: Any = ()) -> Any:
        with self._lock:
            self._conn.send((command, args))
            ok, result = self._conn.recv()
        if not ok:
            raise RuntimeError(f"fault proxy: {command} {args!r} failed: {result}")
        return result

    def add(self, name: str, upstream_port: int) -> RemoteLink:
        port = self.request("add", (name, upstream_port))
        link = RemoteLink(self, name, upstream_port, port)
        self.links[name] = link
        return link

    def clear_all(self) -> None:
        self.request("clear_all")

    def stop(self) -> None:
        if not self._process.is_alive():
            return
        with self._lock:
            self._conn.send(("stop", ()))
        self._process.join(timeout=15)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
