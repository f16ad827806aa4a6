"""A DAG is unique within its owner scope, no longer across the whole service
(controlplane.domain.tenancy): a credential limited to other worlds can no longer take a
DAG before its owner submits it.

Not atomic: the new unique index is built CONCURRENTLY (writes go on while it reads the
table), then made the constraint it backs (no second read), and only then is the global
one dropped, so a DAG is unique in its scope at every moment. Existing rows keep the
global scope unless a credential limited to worlds sent them: those take the scope of
their credential's worlds, in batches of their own transactions. A row an older web
process writes while this runs keeps the global scope.
"""

from django.db import migrations, models

from controlplane.domain.tenancy import dag_owner_scope

BATCH = 5000
TABLE = "controlplane_strategysubmission"
INDEX = "submission_scope_dag_hash_unique"


def scope_rows_of_limited_credentials(apps, schema_editor):
    credentials = apps.get_model("controlplane", "ApiCredential").objects
    limited = credentials.exclude(allowed_worlds=[]).values_list("pk", "allowed_worlds")
    with schema_editor.connection.cursor() as cursor:
        for credential_id, worlds in limited:
            scope = dag_owner_scope(worlds)
            while True:
                cursor.execute(
                    f"UPDATE {TABLE} SET owner_scope = %s WHERE strategy_id IN ("
                    f" SELECT strategy_id FROM {TABLE}"
                    "  WHERE credential_id = %s AND owner_scope <> %s LIMIT %s)",
                    [scope, credential_id, scope, BATCH],
                )
                if cursor.rowcount == 0:
                    break


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('controlplane', '0008_idempotency_batch_search'),
    ]

    operations = [
        migrations.AddField(
            model_name='strategysubmission',
            name='owner_scope',
            field=models.CharField(blank=True, db_default='', default='', editable=False, help_text="The scope the DAG is unique in: the SHA-256 of the sending credential's worlds, blank for the global scope (unlimited credentials, rows rebuilt from the log).", max_length=64),
        ),
        migrations.AlterField(
            model_name='strategysubmission',
            name='dag_hash',
            field=models.CharField(help_text='SHA-256 of the DAG as submitted (before the sentinel); one submission per DAG in its owner scope.', max_length=64),
        ),
        migrations.RunPython(scope_rows_of_limited_credentials, migrations.RunPython.noop),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"CREATE UNIQUE INDEX CONCURRENTLY {INDEX} ON {TABLE} (dag_hash, owner_scope)",
                    f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}",
                ),
                migrations.RunSQL(
                    f"ALTER TABLE {TABLE} ADD CONSTRAINT {INDEX} UNIQUE USING INDEX {INDEX}",
                    f"ALTER TABLE {TABLE} DROP CONSTRAINT {INDEX}",
                ),
            ],
            state_operations=[
                migrations.AddConstraint(
                    model_name='strategysubmission',
                    constraint=models.UniqueConstraint(fields=('dag_hash', 'owner_scope'), name=INDEX),
                ),
            ],
        ),
        migrations.RemoveConstraint(
            model_name='strategysubmission',
            name='submission_dag_hash_unique',
        ),
    ]
