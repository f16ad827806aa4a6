"""What the submission and batch lists export (config.adminkit.export_admin): their
columns without the large JSON documents (the DAG, the orders), newest first."""

from __future__ import annotations

from config.adminkit.export_admin import ExportMixin

_WRITTEN = (
    "credential_id",
    "submitted_at",
    "published_at",
    "recorded_at",
    "commitlog_partition",
    "commitlog_offset",
)


class SubmissionExport(ExportMixin):
    export_fields = (
        "strategy_id",
        "status",
        "dag_hash",
        "world_ids",
        "execution_domain",
        "downgraded",
        "downgrade_reason",
        "node_ids_crc32",
        *_WRITTEN,
    )
    export_order = ("-submitted_at", "-pk")  # as the list, along its index


class BatchExport(ExportMixin):
    export_fields = (
        "batch_id",
        "status",
        "world_id",
        "scope",
        "mode",
        "shared_account",
        "total_orders",
        "reduce_only_orders",
        "reduce_only_ratio",
        *_WRITTEN,
    )
    export_order = ("-submitted_at", "-pk")
