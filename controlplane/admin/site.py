"""The admin as an operator's cockpit: the index page opens with the system overview, the
dashboard is the first entry of the home page and of the sidebar, and every page shows
stored text visibly (config.adminkit.display.visible_page)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.template.response import SimpleTemplateResponse, TemplateResponse
from django.urls import URLPattern, URLResolver, path, reverse

from commitlog.audit.run import last_audit_run
from config.adminkit.display import visible_page
from controlplane.admin.dashboard.history import history
from controlplane.admin.dashboard.lag import partition_lag_chart
from controlplane.admin.dashboard.overview import overview
from controlplane.admin.staff_access import may_see_operations


class ControlPlaneAdminSite(admin.AdminSite):
    site_header = "Strategy control plane"
    site_title = "Control plane"
    index_title = "Operations"

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def shown(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            response: HttpResponseBase = inner(request, *args, **kwargs)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.add_post_render_callback(visible_page)
                return response
            return visible_page(response)

        return shown

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> Any:
        apps = super().get_app_list(request, app_label)
        if app_label is None and may_see_operations(request.user):
            url = reverse("admin:dashboard", current_app=self.name)
            dashboard = {
                "name": "Dashboard",
                "object_name": "Dashboard",
                "admin_url": url,
                "add_url": None,
                "view_only": True,
                "perms": {"view": True},
            }
            apps.insert(
                0,
                {
                    "name": "Operations",
                    "app_label": "operations",
                    "app_url": url,
                    "has_module_perms": True,
                    "models": [dashboard],
                },
            )
        return apps

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        own = {"overview": overview()} if may_see_operations(request.user) else {}
        return super().index(request, {**own, **(extra_context or {})})

    def get_urls(self) -> list[URLResolver | URLPattern]:
        own = [path("dashboard/", self.admin_view(self.dashboard), name="dashboard")]
        return own + super().get_urls()

    def dashboard(self, request: HttpRequest) -> TemplateResponse:
        if not may_see_operations(request.user):
            raise PermissionDenied("viewing the dashboard needs permission to view the outbox")
        now = overview()
        context = {
            **self.each_context(request),
            "title": "Dashboard",
            "overview": now,
            "history": history(),
            "lag_chart": partition_lag_chart(now.partitions),
            "audit": last_audit_run(),
            "refresh_seconds": settings.DASHBOARD_REFRESH_SECONDS,
        }
        return TemplateResponse(request, "admin/dashboard.html", context)
