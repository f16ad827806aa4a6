from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class ControlPlaneAdminConfig(AdminConfig):
    """Django's admin with the operator's site (controlplane.admin.site)."""

    default_site = "controlplane.admin.site.ControlPlaneAdminSite"


class ControlPlaneConfig(AppConfig):
    name = "controlplane"
    verbose_name = "Control plane"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commitlog.upkeep.prune import AgedTable, register_aged
        from config import db_retry
        from controlplane.admin import (
            in_the_log,
            login_audit,
            model_admins,  # noqa: F401  (registers the model admins: controlplane.admin)
        )
        from controlplane.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from controlplane.services.idempotency import KEPT_AT_LEAST
        from controlplane.services.lifecycle import register_handlers

        # A kept connection the server dropped is replaced at a request's or task's first
        # statement.
        db_retry.install()
        register_handlers()  # what the commit log's records do to this app's state
        login_audit.connect()
        in_the_log.add_to_the_outbox_page()
        register_aged(
            "idempotency keys",
            AgedTable("controlplane_idempotencykey", "created_at", kept_at_least=KEPT_AT_LEAST),
        )
        # The admin's failed logins (django-axes): a lockout lasts minutes, not days.
        register_aged("failed admin logins", AgedTable("axes_accessattempt", "attempt_time"))
