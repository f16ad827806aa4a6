"""The process's commit-log writer: made on first use (after a worker forks), kept across
relay runs, thrown away and rebuilt after a fatal error such as being fenced."""

from __future__ import annotations

import logging
import os

from commitlog.conf import commitlog_settings
from commitlog.kafka import TransactionalWriter

logger = logging.getLogger(__name__)


class ProcessWriter:
    def __init__(self) -> None:
        self._writer: TransactionalWriter | None = None
        self._pid = 0

    def get(self) -> TransactionalWriter:
        if self._writer is None or self._pid != os.getpid():
            # A writer inherited through fork shares librdkafka threads it does not own.
            gateway = commitlog_settings()
            self._writer = TransactionalWriter(
                bootstrap=gateway.commitlog_bootstrap,
                topic=gateway.commitlog_topic,
                transactional_id=gateway.commitlog_transactional_id,
                timeout_s=commitlog_settings().relay_publish_timeout_seconds,
                extra_config=commitlog_settings().commitlog_client_config,
            )
            self._pid = os.getpid()
            logger.info(
                "event=relay_writer_created transactional_id=%s topic=%s pid=%s",
                gateway.commitlog_transactional_id,
                gateway.commitlog_topic,
                self._pid,
            )
        return self._writer

    def discard(self) -> None:
        if self._writer is not None and self._pid == os.getpid():
            try:
                self._writer.close()
            except Exception as exc:  # a broken producer may fail to close; it is dropped anyway
                logger.warning("event=relay_writer_close_failed error=%s", exc)
        self._writer = None

    def close(self) -> None:
        self.discard()


process_writer = ProcessWriter()
