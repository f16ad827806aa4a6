from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commitlog.conf import commitlog_settings
from commitlog.upkeep.prune import commitlog_prune


class Command(BaseCommand):
    help = (
        "Delete the commit log's bookkeeping older than the retention window: outbox rows "
        "published and read back, dedup marks, invalid records, conflicts, stale consumer "
        "positions. Never a pending, dead or unread outbox row; submissions and batches stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=float,
            default=None,
            help=f"retention window in days (default COMMITLOG_RETENTION_DAYS, now "
            f"{commitlog_settings().commitlog_retention_days:g})",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="count what would be deleted, delete nothing (default: delete)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=commitlog_settings().commitlog_prune_batch_size,
            help="rows scanned per transaction and table (default COMMITLOG_PRUNE_BATCH_SIZE, "
            f"now {commitlog_settings().commitlog_prune_batch_size})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] is not None and options["days"] < 0:
            raise CommandError("--days must not be negative")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")

        def progress(table: str, deleted: int) -> None:
            self.stderr.write(f"{table}: {deleted} deleted")

        run = commitlog_prune(
            days=options["days"],
            dry_run=options["dry_run"],
            batch_size=options["batch_size"],
            progress=progress,
        )
        if run.skipped:
            raise CommandError(f"nothing pruned: {run.skipped}")
        verb = "would delete" if run.dry_run else "deleted"
        counts = ", ".join(f"{n} {table}" for table, n in run.deleted.items())
        self.stdout.write(f"prune_commitlog: {verb} {counts} (older than {run.cutoff.isoformat()})")
        if not run.dry_run:
            self.stdout.write(
                f"prune_commitlog: {run.transactions} transaction(s), the longest "
                f"{run.longest_transaction_s * 1000:.1f} ms"
            )
