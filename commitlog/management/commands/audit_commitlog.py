from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from commitlog.audit.run import Progress, commitlog_audit
from commitlog.conf import commitlog_settings

DISAGREES = 1  # exit status when anything disagrees
FAILED = 2  # exit status when the audit could not read the log to its end


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--since: not an ISO time: {text!r}", returncode=FAILED) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Read the commit log (read_committed, up to the high watermarks at the start) and "
        "compare it with the rows recorded from it: records matched, recorded rows missing "
        "from the log, records unknown to the database, conflicts, rows recorded from other "
        f"bytes. Exit status {DISAGREES} when anything disagrees, {FAILED} when the log "
        "could not be read to its end."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        window = parser.add_mutually_exclusive_group()
        window.add_argument(
            "--from-beginning",
            action="store_true",
            help="read the whole log, from its start (default: the retention window)",
        )
        window.add_argument(
            "--since",
            metavar="ISO-TIME",
            help="read the records from this time on (UTC unless it says); default: the "
            f"retention window (COMMITLOG_RETENTION_DAYS, now "
            f"{commitlog_settings().commitlog_retention_days:g})",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="records per read and per row lookup (default 1000)",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=10.0,
            help="seconds the broker may go unanswering or a partition without progress "
            "(default 10)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1", returncode=FAILED)
        if not commitlog_settings().commitlog_bootstrap:
            raise CommandError("no broker is configured (COMMITLOG_BOOTSTRAP)", returncode=FAILED)
        since = _moment(options["since"]) if options["since"] else None

        def progress(step: Progress) -> None:
            where = ", ".join(f"{p}: {at}/{end}" for p, (at, end) in step.positions.items())
            self.stderr.write(
                f"audit_commitlog: {step.records} records, {step.per_second:.0f} records/s; "
                f"partition {where or 'none'}"
            )

        run = commitlog_audit(
            since=since,
            from_beginning=options["from_beginning"],
            batch_size=options["batch_size"],
            timeout_s=options["timeout"],
            progress=progress,
        )
        window = "the whole log" if run.since is None else f"since {run.since.isoformat()}"
        self.stdout.write(
            f"audit_commitlog: {run.records} records read ({window}): {run.matched} matched, "
            f"{run.pending} not recorded yet, {run.missing} recorded rows missing from the log, "
            f"{run.unknown} records unknown to the database, {run.conflicts} conflicts, "
            f"{run.differs} rows recorded from other bytes"
        )
        for example in run.examples:
            self.stdout.write(f"  {example}")
        if run.error:
            raise CommandError(f"the log was not read to its end: {run.error}", returncode=FAILED)
        if run.disagreements:
            raise CommandError(f"{run.disagreements} disagreement(s)", returncode=DISAGREES)
