"""A TCP fault proxy: each link listens on 127.0.0.1 and forwards to one server, and its
faults are switched at run time from another thread.

Faults of a link: added latency with jitter (each chunk is held for a random delay, in
order), a bandwidth limit (per connection and direction), connections reset mid-stream
(now, or each connection after a random number of bytes while the fault lasts) and a
blackhole (bytes are accepted and nothing is delivered; new connections are accepted and
never reach the server). A blackhole drops bytes from a stream, which TCP never does, so
when it lifts every connection it touched is reset: what a peer's timeout or keepalive
would do to a connection that went silent.

All links run on one asyncio loop in a daemon thread (`FaultProxy`)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

CHUNK = 64 * 1024
CONNECT_TIMEOUT_S = 5.0


@dataclass
class LinkFaults:
    """What a link does now; read by the loop at each chunk, written by the campaign."""

    latency_s: tuple[float, float] | None = None
    bandwidth_bps: int | None = None
    reset_after_bytes: int | None = None  # while set, each connection dies within this many
    blackhole: bool = False


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST, not a FIN: SO_LINGER of zero, then abort."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):  # already gone
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass(eq=False)
class _Connection:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    tainted: bool = False  # lost bytes to a blackhole
    budget: int | None = None  # bytes left before a mid-stream reset

    def reset(self) -> None:
        _reset(self.client)
        if self.server is not None:
            _reset(self.server)


@dataclass(eq=False)
class Link:
    name: str
    upstream_port: int
    proxy: FaultProxy
    port: int = 0
    faults: LinkFaults = field(default_factory=LinkFaults)
    connections: set[_Connection] = field(default_factory=set)
    resets: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # --- called from the campaign's thread ---------------------------------------------

    def set_latency(self, low_s: float, high_s: float) -> None:
        self.faults.latency_s = (low_s, high_s)

    def set_bandwidth(self, bytes_per_s: int) -> None:
        self.faults.bandwidth_bps = bytes_per_s

    def set_blackhole(self, on: bool) -> None:
        self.faults.blackhole = on
        if not on:
            self.proxy.call(self._reset_where(lambda c: c.tainted))

    def reset_connections(self, within_bytes: int | None = None) -> None:
        """Reset every live connection now; with `within_bytes`, also each later one once
        it has carried a random number of bytes up to that, until `clear()`."""
        self.faults.reset_after_bytes = within_bytes
        self.proxy.call(self._reset_where(lambda c: True))

    def lift(self, kind: str) -> None:
        """End one kind of fault: latency, bandwidth, reset or blackhole."""
        if kind == "latency":
            self.faults.latency_s = None
        elif kind == "bandwidth":
            self.faults.bandwidth_bps = None
        elif kind == "reset":
            self.faults.reset_after_bytes = None
        else:
            self.set_blackhole(False)

    def clear(self) -> None:
        blackholed = self.faults.blackhole
        self.faults = LinkFaults()
        if blackholed:
            self.proxy.call(self._reset_where(lambda c: c.tainted))

    # --- on the loop ---------------------------------------------------------------------

    async def _reset_where(self, which: Any) -> None:
        for connection in [c for c in self.connections if which(c)]:
            self.resets += 1
            connection.reset()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = _Connection(writer)
        if self.faults.reset_after_bytes:
            connection.budget = random.randint(0, self.faults.reset_after_bytes)  # noqa: S311
        self.connections.add(connection)
        try:
            if self.faults.blackhole:
                connection.tainted = True  # accepted, never forwarded; reset when it lifts
                while await reader.read(CHUNK):
                    pass
                return
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", self.upstream_port), CONNECT_TIMEOUT_S
                )
            except (OSError, TimeoutError):
                _reset(writer)  # the server is down: the client sees a refused connection
                return
            connection.server = up_writer
            pumps = [
                asyncio.ensure_future(self._pump(connection, reader, up_writer)),
                asyncio.ensure_future(self._pump(connection, up_reader, writer)),
            ]
            _, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for pump in pending:
                pump.cancel()
            up_writer.close()
        except OSError:
            pass
        finally:
            self.connections.discard(connection)
            writer.close()

    async def _pump(
        self, connection: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Read chunks as they come and deliver each at its due time, in order."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        deliver = asyncio.ensure_future(self._deliver(connection, queue, writer))
        last_due = 0.0
        try:
            while True:
                chunk = await reader.read(CHUNK)
                if not chunk:
                    break
                faults = self.faults
                if faults.blackhole:
                    connection.tainted = True
                    continue
                due = time.monotonic()
                if faults.latency_s is not None:
                    due += random.uniform(*faults.latency_s)  # noqa: S311
                last_due = max(due, last_due)
                queue.put_nowait((last_due, chunk))
            queue.put_nowait(None)
            await deliver
        except OSError:
            pass
        finally:
            deliver.cancel()

    async def _deliver(
        self,
        connection: _Connection,
        queue: asyncio.Queue[tuple[float, bytes] | None],
        writer: asyncio.StreamWriter,
    ) -> None:
        while (item := await queue.get()) is not None:
            due, chunk = item
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            faults = self.faults
            if faults.blackhole:
                connection.tainted = True
                continue
            if connection.budget is not None:
                if len(chunk) >= connection.budget:
                    writer.write(chunk[: connection.budget])
                    self.resets += 1
                    connection.reset()
                    return
                connection.budget -= len(chunk)
            bandwidth = faults.bandwidth_bps  # once: the campaign may lift it meanwhile
            if bandwidth:
                # Paced in slices, so a limit also slows a single large chunk.
                step = max(1, bandwidth // 20)
                for start in range(0, len(chunk), step):
                    writer.write(chunk[start : start + step])
                    await writer.drain()
                    await asyncio.sleep(min(step, len(chunk) - start) / bandwidth)
            else:
                writer.write(chunk)
                await writer.drain()


class FaultProxy:
    """The links, on one event loop in a daemon thread."""

    def __init__(self) -> None:
        self.links: dict[str, Link] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers: list[asyncio.Server] = []

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run `coroutine` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def add(self, name: str, upstream_port: int) -> Link:
        """A new link to 127.0.0.1:`upstream_port`, on a port of its own."""
        link = Link(name, upstream_port, self)
        server = self.call(asyncio.start_server(link.handle, "127.0.0.1", 0))
        self._servers.append(server)
        link.port = server.sockets[0].getsockname()[1]
        self.links[name] = link
        return link

    def clear_all(self) -> None:
        for link in self.links.values():
            link.clear()

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for link in self.links.values():
            await link._reset_where(lambda c: True)
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self.call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()
