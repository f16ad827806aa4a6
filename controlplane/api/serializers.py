"""Request and response shapes of the REST API. An input serializer is the one
validation pass: its `validated_data` is the domain's cleaned request, which the service
takes as it is. An output serializer both renders the answer and describes it in the
schema."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any, NoReturn, TypeVar

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from controlplane.api import schema
from controlplane.api.fields import (
    IdentifierField,
    StrictBooleanField,
    StrictIntegerField,
    StringOrObjectField,
)
from controlplane.domain import widths
from controlplane.domain.compute_context import DowngradeReason
from controlplane.domain.orders import RebalanceRequest, rebalance_request
from controlplane.domain.scopes import Scope
from controlplane.domain.submission import StrategyRequest, strategy_request
from controlplane.domain.worlds import WorldIds, normalize_world_ids
from controlplane.errors import WorldIdsRequired
from controlplane.errors import codes as error_codes
from controlplane.models import SubmissionStatus


class _AsParsed(serializers.Field[Any, Any, Any, Any]):
    """An order or entry as parsed: domain.orders judges it and says where it is at fault
    (a JSONField would call a number beyond a double "not valid JSON")."""

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(schema.ORDER)
class OrderField(_AsParsed):
    pass


@extend_schema_field(schema.STRATEGY_ENTRY)
class StrategyEntryField(_AsParsed):
    pass


@extend_schema_field({"anyOf": [schema.ORDER, schema.STRATEGY_ENTRY]})
class SingleFormOrderField(_AsParsed):
    """An order, or for a per_strategy batch an entry."""


def _orders(**options: Any) -> serializers.ListField:
    return serializers.ListField(child=OrderField(), **options)


class WorldIdsField(serializers.ListField):
    """Required, and missing or null is the contract's own refusal, E_WORLD_IDS_REQUIRED."""

    def fail(self, key: str, **kwargs: Any) -> NoReturn:
        if key in ("required", "null"):
            raise serializers.ValidationError(
                ErrorDetail("world_ids is required", code=WorldIdsRequired.code)
            )
        super().fail(key, **kwargs)
        raise AssertionError("unreachable")  # Field.fail always raises


@extend_schema_field(schema.CONTEXT)
class ContextField(serializers.DictField):
    pass


@extend_schema_field(schema.META)
class MetaField(serializers.DictField):
    pass


class StampField(serializers.DateTimeField):
    """A time as the API gives it: ISO 8601 to the millisecond, with its offset."""

    def to_representation(self, value: datetime | None) -> str | None:  # type: ignore[override]
        return value.isoformat(timespec="milliseconds") if value is not None else None


class CountsOut(serializers.Serializer[Any]):
    """Read from a batch (`source="*"`)."""

    total = serializers.IntegerField(min_value=1, source="total_orders")
    reduce_only = serializers.IntegerField(min_value=0, source="reduce_only_orders")


@extend_schema_field(schema.DAG_JSON)
class DagJsonField(StringOrObjectField):
    pass


class StrategySubmitIn(serializers.Serializer[Any]):
    dag_json = DagJsonField(trim_whitespace=False)
    meta = MetaField(required=False, allow_null=True, default=None)
    world_ids = WorldIdsField(
        child=IdentifierField(allow_blank=True, trim_whitespace=False),
        help_text="At least one non-blank world id.",
    )
    node_ids_crc32 = StrictIntegerField(min_value=0, max_value=0xFFFFFFFF)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # `context` would shadow Serializer.context if declared as an attribute.
        fields["context"] = ContextField(required=False, allow_null=True, default=None)
        return fields

    def validate_world_ids(self, value: list[str] | None) -> WorldIds:
        # Judged here, beside the other fields, so one answer names every field at fault.
        try:
            return normalize_world_ids(value or [], caps=settings.API_LIMITS)
        except WorldIdsRequired as exc:
            raise serializers.ValidationError(ErrorDetail(exc.message, code=exc.code)) from None

    def validate(self, attrs: dict[str, Any]) -> StrategyRequest:
        return strategy_request(
            dag_json=attrs["dag_json"],
            node_ids_crc32=attrs["node_ids_crc32"],
            world_ids=attrs["world_ids"],
            meta=attrs["meta"],
            context=attrs["context"],
            max_depth=settings.API_MAX_JSON_DEPTH,
        )

    def to_internal_value(self, data: Any) -> Any:
        # Checked first: a client still sending world_id needs to hear that, not other errors.
        if isinstance(data, dict) and data.get("world_id") is not None:
            raise serializers.ValidationError(
                {
                    "world_id": ErrorDetail(
                        "world_id is deprecated; send world_ids",
                        code=error_codes.WORLD_ID_DEPRECATED,
                    )
                }
            )
        return super().to_internal_value(data)


@extend_schema_field({"type": "object", "maxProperties": 0})
class QueueMapField(serializers.DictField):
    pass


class StrategyAckOut(serializers.Serializer[Any]):
    """Read from services.strategies.StrategyAck."""

    strategy_id = serializers.UUIDField()
    sentinel_id = serializers.CharField()
    node_ids_crc32 = serializers.IntegerField()
    downgraded = serializers.BooleanField(source="compute_context.downgraded")
    downgrade_reason = serializers.ChoiceField(
        choices=[reason.value for reason in DowngradeReason],
        allow_null=True,
        source="compute_context.downgrade_reason",
    )
    safe_mode = serializers.BooleanField(source="compute_context.safe_mode")
    queue_map = QueueMapField(default=dict, help_text="Always empty: queues are not assigned here.")


class StrategyStatusOut(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=SubmissionStatus.values)


class RebalanceIn(serializers.Serializer[Any]):
    """Either `{world_id, scope, orders}` or `{per_world, global, per_strategy}`."""

    world_id = IdentifierField(required=False, allow_null=True, allow_blank=True)
    scope = serializers.ChoiceField(choices=Scope.values, required=False)
    orders = serializers.ListField(child=SingleFormOrderField(), required=False)
    per_world = serializers.DictField(child=_orders(), required=False)
    per_strategy = serializers.ListField(child=StrategyEntryField(), required=False)
    mode = IdentifierField(required=False, allow_null=True, max_length=widths.MODE)
    execution_domain = IdentifierField(
        required=False, allow_null=True, max_length=widths.EXECUTION_DOMAIN
    )
    shared_account = StrictBooleanField(required=False, default=False)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # `global` is a Python keyword, so it cannot be declared as an attribute.
        fields["global"] = _orders(required=False)
        return fields

    def validate(self, attrs: dict[str, Any]) -> RebalanceRequest:
        single = "orders" in attrs or "scope" in attrs
        multi = any(key in attrs for key in ("per_world", "global", "per_strategy"))
        if single and multi:
            raise serializers.ValidationError(
                "send either {world_id, scope, orders} or {per_world, global, per_strategy}"
            )
        if not single and not multi:
            raise serializers.ValidationError(
                ErrorDetail("the request has no orders", code=error_codes.NO_ORDERS)
            )
        if single and ("orders" not in attrs or "scope" not in attrs):
            raise serializers.ValidationError("the single-batch form needs scope and orders")
        return rebalance_request(attrs, caps=settings.API_LIMITS)


class BatchOut(serializers.Serializer[Any]):
    """Read from a RebalanceBatch; `mode` and `shared_account` only when set."""

    batch_id = serializers.CharField()
    world_id = serializers.CharField()
    scope = serializers.ChoiceField(choices=Scope.values)
    counts = CountsOut(source="*")
    reduce_only_ratio = serializers.FloatField()
    mode = serializers.CharField(required=False)
    shared_account = serializers.BooleanField(required=False)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        body: dict[str, Any] = super().to_representation(instance)
        if not body["mode"]:
            del body["mode"]
        if not body["shared_account"]:
            del body["shared_account"]
        return body


class RebalanceAckOut(serializers.Serializer[Any]):
    """Read from services.rebalancing.RebalanceAccepted."""

    batches = BatchOut(many=True)


class BatchStatusOut(serializers.Serializer[Any]):
    """Read from a RebalanceBatch."""

    batch_id = serializers.CharField()
    status = serializers.ChoiceField(choices=SubmissionStatus.values)
    world_id = serializers.CharField()
    scope = serializers.ChoiceField(choices=Scope.values)
    counts = CountsOut(source="*")
    reduce_only_ratio = serializers.FloatField()
    submitted_at = StampField()
    published_at = StampField(allow_null=True)
    recorded_at = StampField(allow_null=True)
    commitlog_partition = serializers.IntegerField(allow_null=True)
    commitlog_offset = serializers.IntegerField(allow_null=True)


_Out = TypeVar("_Out", bound=serializers.Serializer[Any])


@functools.cache
def _renderer(kind: type[_Out]) -> _Out:
    return kind()


def rendered(kind: type[serializers.Serializer[Any]], instance: Any) -> dict[str, Any]:
    """`instance` as the output serializer `kind` describes it, through one instance per
    kind and process: a new serializer deep-copies its fields, which cost more than the
    rendering itself. Rendering reads the bound fields and changes nothing."""
    body: dict[str, Any] = _renderer(kind).to_representation(instance)
    return body
