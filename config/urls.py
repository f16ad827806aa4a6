from django.contrib import admin
from django.urls import path, re_path
from django.views.generic import RedirectView
from rest_framework.authentication import SessionAuthentication

from controlplane.api import docs as api_docs
from controlplane.api import views as api
from controlplane.api.auth import (
    ApiCredentialAuthentication,
    HasApiCredentialOrApiStaff,
    HasApiCredentialOrOperator,
)
from controlplane.ops import health, metrics

# The schema and the metrics are for API clients and for some staff logged in to the admin
# (controlplane.admin.staff_access says which).
_credential_or_session = [ApiCredentialAuthentication, SessionAuthentication]
_schema_auth = {
    "authentication_classes": _credential_or_session,
    "permission_classes": [HasApiCredentialOrApiStaff],
}
_metrics_auth = {
    "authentication_classes": _credential_or_session,
    "permission_classes": [HasApiCredentialOrOperator],
}

urlpatterns = [
    path("strategies", api.StrategySubmitView.as_view(), name="strategy-submit"),
    path(
        "strategies/<str:strategy_id>/status",
        api.StrategyStatusView.as_view(),
        name="strategy-status",
    ),
    path("rebalancing/batches", api.RebalanceBatchView.as_view(), name="rebalance-batches"),
    path(
        "rebalancing/batches/<path:batch_id>",
        api.RebalanceBatchStatusView.as_view(),
        name="rebalance-batch-status",
    ),
    path("api/schema", api_docs.ApiSchemaView.as_view(**_schema_auth), name="openapi-schema"),
    path(
        "api/docs",
        api_docs.ApiDocsView.as_view(url_name="openapi-schema", **_schema_auth),
        name="openapi-docs",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.MetricsView.as_view(**_metrics_auth), name="metrics"),
    path("health", health.health, name="health"),
    path("admin/", admin.site.urls),
    path("admin", RedirectView.as_view(url="/admin/"), name="admin-no-slash"),
    # Last: every other path answers a JSON 404, in every profile (with DEBUG on, Django
    # would render its HTML page instead of handler404).
    re_path(r"^", api.not_found, name="not-found"),
]

handler404 = "controlplane.api.views.not_found"
handler500 = "controlplane.api.views.server_error"
