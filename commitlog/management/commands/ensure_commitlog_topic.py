from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commitlog.conf import commitlog_settings
from commitlog.upkeep.topics import commitlog_topic_ensure


class Command(BaseCommand):
    help = "Create the compacted commit-log topic if it is missing; report config drift."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--partitions",
            type=int,
            default=commitlog_settings().commitlog_topic_partitions,
            help="partitions of a new topic (default COMMITLOG_TOPIC_PARTITIONS, now "
            f"{commitlog_settings().commitlog_topic_partitions})",
        )
        parser.add_argument(
            "--replication-factor",
            type=int,
            default=commitlog_settings().commitlog_topic_replication,
            help="replicas of a new topic (default COMMITLOG_TOPIC_REPLICATION, now "
            f"{commitlog_settings().commitlog_topic_replication})",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="exit non-zero when the existing topic differs (default: warn only)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = commitlog_settings()
        if not gateway.writer_enabled:
            raise CommandError("no commitlog_bootstrap configured: nothing to create")
        try:
            report = commitlog_topic_ensure(
                partitions=options["partitions"],
                replication_factor=options["replication_factor"],
            )
        except Exception as exc:
            raise CommandError(f"could not ensure topic {gateway.commitlog_topic}: {exc}") from exc
        topic = gateway.commitlog_topic
        if report.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"created topic {topic} ({report.partitions} partitions, compacted)"
                )
            )
            return
        if not report.differences:
            self.stdout.write(f"topic {topic} exists with the wanted configuration")
            return
        for name, (actual, wanted) in sorted(report.differences.items()):
            self.stderr.write(
                self.style.WARNING(f"topic {topic}: {name} is {actual!r}, wanted {wanted!r}")
            )
        if options["strict"]:
            raise CommandError(f"topic {topic} differs from the wanted configuration")
