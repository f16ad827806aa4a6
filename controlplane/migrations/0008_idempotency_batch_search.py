# The admin's idempotency key lookups. Built concurrently: the key table takes every
# rebalance request's insert, which a plain CREATE INDEX would block while it builds.

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("controlplane", "0007_credential_attribution_and_limits"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="idempotencykey",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["batch_ids"], name="idempotency_batch_ids_gin"
            ),
        ),
        AddIndexConcurrently(
            model_name="idempotencykey",
            index=models.Index(fields=["key"], name="idempotency_key_search"),
        ),
    ]
