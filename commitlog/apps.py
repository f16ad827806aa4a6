from django.apps import AppConfig


class CommitLogConfig(AppConfig):
    name = "commitlog"
    verbose_name = "Commit log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from commitlog import checks  # noqa: F401  (registers the system checks)
