"""Export CSV / JSON links on a changelist: the rows its current filters and search select,
streamed (config.adminkit.export), at most ADMIN_EXPORT_MAX_ROWS of them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from config.adminkit.export import csv_lines, json_chunks, keyset_rows
from config.adminkit.mixins import ModelAdminMixin

logger = logging.getLogger(__name__)

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
_EXPORTING = "_adminkit_exporting"  # set on the request of an export only


def _no_results(changelist: ChangeList, request: HttpRequest) -> None:
    """An export reads its rows itself: no page of them, no count."""


class ExportMixin(ModelAdminMixin):
    """For a ModelAdmin: `export_fields` are the model fields exported (in order) and
    `export_order` the keyset order, ending in the primary key."""

    export_fields: tuple[str, ...] = ()
    export_order: tuple[str, ...] = ("-pk",)

    def get_urls(self) -> list[Any]:
        opts = self.opts
        view = self.admin_site.admin_view(self.export_view)
        name = f"{opts.app_label}_{opts.model_name}_export"
        own: list[URLPattern] = [path("export/<str:kind>/", view, name=name)]
        return own + super().get_urls()

    def export_links(self, request: HttpRequest) -> dict[str, str]:
        """The export URLs of the list as the request filters and searches it."""
        opts = self.opts
        query = request.GET.urlencode()
        links = {}
        for kind in CONTENT_TYPES:
            url = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_export",
                kwargs={"kind": kind},
            )
            links[kind] = f"{url}?{query}" if query else url
        return links

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        context = {**(extra_context or {}), "export_links": self.export_links(request)}
        return super().changelist_view(request, context)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> Any:
        found = super().get_changelist(request, **kwargs)
        if getattr(request, _EXPORTING, False):
            return type("ExportChangeList", (found,), {"get_results": _no_results})
        return found

    def export_view(self, request: HttpRequest, kind: str) -> HttpResponseBase:
        if kind not in CONTENT_TYPES:
            raise Http404("no such export format")
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        setattr(request, _EXPORTING, True)
        try:
            # The changelist's own filters, search and row visibility, as on its page.
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("these filters do not apply to this list")
        limit: int = settings.ADMIN_EXPORT_MAX_ROWS
        # One row past the limit tells the writer whether the list was cut.
        rows = keyset_rows(
            changelist.queryset, self.export_fields, self.export_order, limit=limit + 1
        )
        body: Iterator[str] = (csv_lines if kind == "csv" else json_chunks)(
            self.export_fields, rows, limit=limit
        )
        opts = self.opts
        logger.info(
            "event=admin_export model=%s.%s format=%s actor=%s max_rows=%d query=%s",
            opts.app_label,
            opts.model_name,
            kind,
            request.user.get_username(),
            limit,
            request.GET.urlencode() or "-",
        )
        response = StreamingHttpResponse(body, content_type=CONTENT_TYPES[kind])
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="{opts.model_name}-{stamp}.{kind}"'
        response["X-Export-Max-Rows"] = str(limit)
        window = getattr(changelist, "filter_window", None)
        if window is not None:
            # Windowed filters (config.adminkit.window) searched only the latest rows.
            response["X-Filter-Window-Rows"] = str(window)
        add_never_cache_headers(response)
        return response
