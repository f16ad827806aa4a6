"""The admin as an operator's cockpit: the index page opens with the system overview."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, URLResolver, path

from commitlog.audit.run import last_audit_run
from controlplane.admin.dashboard.history import history
from controlplane.admin.dashboard.overview import overview
from controlplane.admin.staff_access import may_see_operations


class ControlPlaneAdminSite(admin.AdminSite):
    site_header = "Strategy control plane"
    site_title = "Control plane"
    index_title = "Operations"

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        own = {"overview": overview()} if may_see_operations(request.user) else {}
        return super().index(request, {**own, **(extra_context or {})})

    def get_urls(self) -> list[URLResolver | URLPattern]:
        own = [path("dashboard/", self.admin_view(self.dashboard), name="dashboard")]
        return own + super().get_urls()

    def dashboard(self, request: HttpRequest) -> TemplateResponse:
        if not may_see_operations(request.user):
            raise PermissionDenied("viewing the dashboard needs permission to view the outbox")
        context = {
            **self.each_context(request),
            "title": "Dashboard",
            "overview": overview(),
            "history": history(),
            "audit": last_audit_run(),
            "refresh_seconds": settings.DASHBOARD_REFRESH_SECONDS,
        }
        return TemplateResponse(request, "admin/dashboard.html", context)
