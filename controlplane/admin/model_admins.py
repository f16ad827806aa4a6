from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.safestring import SafeString

from config.adminkit.display import pretty_json
from config.adminkit.estimates import EstimatedCountPaginator
from config.adminkit.window import FilterWindow, windowed
from controlplane.admin.columns import BATCH_COLUMNS, CREDENTIAL_COLUMNS, SUBMISSION_COLUMNS
from controlplane.admin.credential_form import CredentialForm, issued_token_page
from controlplane.admin.in_the_log import InTheLog
from controlplane.admin.lookups import (
    DowngradeFilter,
    WorldFilter,
    hex_prefix,
    indexed_search,
    recent_values_filter,
    uuid_prefix,
)
from controlplane.admin.record_tools import BatchTools, SubmissionTools
from controlplane.admin.trace import trace_html
from controlplane.models import ApiCredential, RebalanceBatch, StrategySubmission
from controlplane.records import Event
from controlplane.services.credentials import (
    credential_issue,
    credential_revoke,
    credential_set_limits,
)


@admin.register(StrategySubmission)
class StrategySubmissionAdmin(
    InTheLog, SubmissionTools, FilterWindow, admin.ModelAdmin[StrategySubmission]
):
    list_display = SUBMISSION_COLUMNS
    list_display_links = None  # the id links to the row, beside its copy button
    list_select_related = ("credential",)
    # Windowed: the columns without an index (config.adminkit.window).
    list_filter = (
        ("status", windowed(admin.ChoicesFieldListFilter)),
        WorldFilter,
        "credential",
        recent_values_filter("execution_domain", "execution domain"),
        ("downgraded", windowed(admin.BooleanFieldListFilter)),
        windowed(DowngradeFilter),
        ("submitted_at", admin.DateFieldListFilter),
    )
    filter_window_order = ("-submitted_at", "-pk")  # as the list, along its index
    filter_window_hint = "choose a date range (submitted at) to search older ones"
    search_fields = ("strategy_id", "dag_hash", "world_id")  # as get_search_results reads them
    search_help_text = (
        "A strategy id or DAG hash, or their first characters (an id begins with its time: "
        "give at least its first 18), or a world id."
    )
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = (
        "strategy_id",
        "status",
        "dag_hash",
        "world_ids",
        "execution_domain",
        "downgraded",
        "downgrade_reason",
        "node_ids_crc32",
        "insert_sentinel",
        "credential",
        "owner_scope",
        "submitted_at",
        "published_at",
        "recorded_at",
        "commitlog_partition",
        "commitlog_offset",
        "trace",
        "compute_context_json",
        "meta_json",
        "dag_json",
    )
    readonly_fields = fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[StrategySubmission], search_term: str
    ) -> tuple[QuerySet[StrategySubmission], bool]:
        term = search_term.strip().lower()
        found = indexed_search(
            queryset,
            term,
            uuid_prefix(term),
            hex_prefix("dag_hash", term),
            Q(world_id=search_term.strip()),
        )
        return found, False

    @admin.display(description="partition / offset")
    def log_position(self, obj: StrategySubmission) -> str:
        if obj.commitlog_partition is None:
            return "-"
        return f"{obj.commitlog_partition} / {obj.commitlog_offset}"

    @admin.display(description="trace")
    def trace(self, obj: StrategySubmission) -> SafeString:
        return trace_html(Event.INGEST.value, str(obj.strategy_id), obj)

    @admin.display(description="compute context")
    def compute_context_json(self, obj: StrategySubmission) -> SafeString:
        return pretty_json(obj.compute_context)

    @admin.display(description="meta")
    def meta_json(self, obj: StrategySubmission) -> SafeString:
        return pretty_json(obj.meta)

    @admin.display(description="DAG")
    def dag_json(self, obj: StrategySubmission) -> SafeString:
        return pretty_json(obj.dag)


@admin.register(RebalanceBatch)
class RebalanceBatchAdmin(InTheLog, BatchTools, FilterWindow, admin.ModelAdmin[RebalanceBatch]):
    list_display = BATCH_COLUMNS
    list_display_links = None  # the id links to the row, beside its copy button
    list_select_related = ("credential",)
    list_filter = (
        ("status", windowed(admin.ChoicesFieldListFilter)),
        ("scope", windowed(admin.ChoicesFieldListFilter)),
        "credential",
        recent_values_filter("world_id", "world"),
        windowed(recent_values_filter("mode", "mode")),
        ("shared_account", windowed(admin.BooleanFieldListFilter)),
        ("submitted_at", admin.DateFieldListFilter),
    )
    filter_window_order = ("-submitted_at", "-pk")
    filter_window_hint = "choose a date range (submitted at) to search older ones"
    search_fields = ("batch_id", "=world_id", "=idempotency_key")  # as BatchTools reads them
    search_help_text = (
        "A batch id or its first characters (it begins with its world id), a world id, "
        "or the Idempotency-Key it was sent with."
    )
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = (
        "batch_id",
        "status",
        "world_id",
        "scope",
        "mode",
        "shared_account",
        "total_orders",
        "reduce_only_orders",
        "reduce_only_ratio",
        "credential",
        "submitted_at",
        "published_at",
        "recorded_at",
        "commitlog_partition",
        "commitlog_offset",
        "trace",
        "orders_json",
    )
    readonly_fields = fields

    @admin.display(description="trace")
    def trace(self, obj: RebalanceBatch) -> SafeString:
        return trace_html(Event.REBALANCE.value, obj.batch_id, obj)

    @admin.display(description="orders")
    def orders_json(self, obj: RebalanceBatch) -> SafeString:
        return pretty_json(obj.orders)


class CredentialStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "active"), ("revoked", "revoked")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ApiCredential]
    ) -> QuerySet[ApiCredential]:
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


ISSUED_TOKEN = "_issued_token"  # noqa: S105 (an attribute name)


@admin.register(ApiCredential)
class ApiCredentialAdmin(admin.ModelAdmin[ApiCredential]):
    class Media:
        css = {"all": ("adminkit/admin_lists.css",)}  # the read-only lists' widths

    form = CredentialForm
    list_display = CREDENTIAL_COLUMNS
    list_filter = (CredentialStateFilter,)
    search_fields = ("name", "key_prefix")
    readonly_fields = ("key_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    @admin.display(boolean=True, description="active")
    def is_active(self, obj: ApiCredential) -> bool:
        return obj.is_active

    limit_fields = ("allowed_worlds", "allowed_scopes")

    @admin.display(description="worlds")
    def worlds(self, obj: ApiCredential) -> str:
        return ", ".join(obj.allowed_worlds) or "all"

    @admin.display(description="scopes")
    def scopes(self, obj: ApiCredential) -> str:
        return ", ".join(obj.allowed_scopes) or "all"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The name is set once, when the credential is issued; the limits stay editable.
        return (*self.readonly_fields, "name") if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("name", *self.limit_fields)
        return ("name", *self.limit_fields, *self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead, so the audit trail stays

    def save_model(self, request: HttpRequest, obj: ApiCredential, form: Any, change: bool) -> None:
        if change:
            credential_set_limits(credential=obj, limits=form.limits)
            return
        issued = credential_issue(name=obj.name, limits=form.limits)
        obj.pk = issued.credential.pk
        obj.key_prefix = issued.credential.key_prefix
        obj.key_hash = issued.credential.key_hash
        obj.created_at = issued.credential.created_at
        setattr(obj, ISSUED_TOKEN, issued.token)  # for response_add, on this request only

    def response_add(
        self, request: HttpRequest, obj: ApiCredential, post_url_continue: str | None = None
    ) -> HttpResponse:
        # The token is in this response's body only: not in a redirect's messages cookie,
        # and never stored by the browser or a proxy.
        context = {**self.admin_site.each_context(request), "opts": self.opts}
        return issued_token_page(request, context, obj, getattr(obj, ISSUED_TOKEN))

    @admin.action(description="Revoke selected credentials")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiCredential]) -> None:
        actor = request.user if isinstance(request.user, AbstractBaseUser) else None
        revoked = 0
        for credential in queryset.filter(revoked_at__isnull=True):
            credential_revoke(credential=credential, actor=actor)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} credential(s).", messages.SUCCESS)
