from __future__ import annotations

import gc
import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commitlog.conf import commitlog_settings
from commitlog.consumer.loop import ConsumerLoop, LoopOptions
from commitlog.kafka import LogConsumer
from commitlog.relay.writer import process_writer


class Command(BaseCommand):
    help = (
        "Read the commit log back: drop duplicates durably, move submissions and batches to "
        "recorded (rebuilding unknown ones), keep undecodable records for operators."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--group",
            help="consumer group (default: the configured commitlog_group, now "
            f"{commitlog_settings().commitlog_group})",
        )
        parser.add_argument(
            "--from-beginning",
            action="store_true",
            help="read every partition from its first record (rebuild state into an empty DB; "
            "default: resume from the group's committed offsets)",
        )
        parser.add_argument(
            "--exit-at-end",
            action="store_true",
            help="stop once the records present at start have been applied (default: run until "
            "stopped)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=commitlog_settings().consumer_batch_size,
            help="records applied per database transaction (default CONSUMER_BATCH_SIZE, "
            f"now {commitlog_settings().consumer_batch_size})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = commitlog_settings()
        if not gateway.writer_enabled:
            raise CommandError(
                "the commit log is not configured (no commitlog_bootstrap or commitlog_topic): "
                "nothing to consume"
            )
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            self.stderr.write(f"{signal.Signals(signum).name}: finishing the batch in hand")
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

        group = options["group"] or gateway.commitlog_group
        log = LogConsumer(
            bootstrap=gateway.commitlog_bootstrap,
            group=group,
            topic=gateway.commitlog_topic,
            from_beginning=options["from_beginning"],
            session_timeout_ms=commitlog_settings().consumer_session_timeout_ms,
            extra_config=commitlog_settings().commitlog_client_config,
        )
        self.stdout.write(
            f"consuming {gateway.commitlog_topic} at {gateway.commitlog_bootstrap} as group {group}"
        )
        loop_options = LoopOptions.from_settings(
            batch_size=options["batch_size"], exit_at_end=options["exit_at_end"], group=group
        )
        # Django, the apps and the clients are loaded for good: move them out of the cycle
        # collector's sight, so that the collections between batches do not walk them.
        gc.collect()
        gc.freeze()
        try:
            totals = ConsumerLoop(log, loop_options, stop).run()
        finally:
            gc.unfreeze()  # the command may run inside a longer-lived process (tests)
            log.close()
            process_writer.close()
        self.stdout.write(
            f"consumer stopped: records={totals.records} applied={totals.applied} "
            f"duplicates={totals.duplicates} invalid={totals.invalid} conflicts={totals.conflicts}"
        )
