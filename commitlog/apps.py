import logging
import os

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger(__name__)


class CommitLogConfig(AppConfig):
    name = "commitlog"
    verbose_name = "Commit log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        quiet = os.environ.get("CONTROLPLANE_QUIET_START") == "1"  # manage.py --help
        if not settings.GATEWAY.writer_enabled and not quiet:
            logger.info(
                "event=commitlog_writer_disabled profile=%s reason=no_bootstrap_or_topic "
                "effect=outbox_rows_stay_pending",
                settings.GATEWAY.profile,
            )
