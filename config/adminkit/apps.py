from django.apps import AppConfig


class AdminKitConfig(AppConfig):
    """Installed for its static files (the read-only lists' styles); it has no models."""

    name = "config.adminkit"
    label = "adminkit"
    verbose_name = "Admin helpers"
