"""The commit log's admin pages, registered on import (Django's admin autodiscovery)."""

from commitlog.admin.outbox import OutboxEventAdmin
from commitlog.admin.records import ConsumedRecordAdmin, InvalidRecordAdmin, RecordConflictAdmin

__all__ = ["ConsumedRecordAdmin", "InvalidRecordAdmin", "OutboxEventAdmin", "RecordConflictAdmin"]
