from django.contrib.admin.apps import AdminConfig


class ControlPlaneAdminConfig(AdminConfig):
    default_site = "controlplane.admin_site.ControlPlaneAdminSite"
