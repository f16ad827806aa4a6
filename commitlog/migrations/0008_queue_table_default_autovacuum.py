"""Back to PostgreSQL's default autovacuum thresholds on the read-back backlog: the
dashboard's slow plans that 0007 was written against came from JIT compilation, not from
the table's statistics, and a setting no measurement supports does not stay."""

from django.db import migrations

_DEFAULTS = (
    "autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
    "autovacuum_analyze_scale_factor, autovacuum_analyze_threshold"
)
_TUNED = (
    "autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, "
    "autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 1000"
)


class Migration(migrations.Migration):
    dependencies = [("commitlog", "0007_queue_table_autovacuum")]

    operations = [
        migrations.RunSQL(
            f"ALTER TABLE commitlog_unreadrecord RESET ({_DEFAULTS})",
            f"ALTER TABLE commitlog_unreadrecord SET ({_TUNED})",
        ),
    ]
