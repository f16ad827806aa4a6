"""The read-back backlog is a queue: every published record adds a row and its read-back
deletes it, so the table is mostly dead rows between vacuums and, left to the default
thresholds (a fifth of the table), its statistics say nothing of its size. The planner
then takes the dashboard's count of a few unread rows for thousands, and plans a parallel
join against the whole outbox. Vacuumed and analyzed after every thousand changes, it
stays small and known."""

from django.db import migrations

_TUNED = (
    "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, "
    "autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000"
)
_DEFAULTS = (
    "autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
    "autovacuum_analyze_scale_factor, autovacuum_analyze_threshold"
)


class Migration(migrations.Migration):
    dependencies = [("commitlog", "0006_event_registered_by_apps")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE commitlog_unreadrecord SET ({_TUNED}); ANALYZE commitlog_unreadrecord",
            f"ALTER TABLE commitlog_unreadrecord RESET ({_DEFAULTS})",
        ),
    ]
