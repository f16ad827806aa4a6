"""Thin REST views: validate the shape, call the service, shape the answer."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from controlplane import selectors, serializers
from controlplane.services.rebalancing import BatchAck, group_multi, group_single, rebalance_submit
from controlplane.services.strategies import StrategyAck, strategy_submit

_ERRORS = {code: serializers.ErrorOut for code in (400, 401, 409, 413, 422)}


def _ack_body(ack: StrategyAck) -> dict[str, Any]:
    context = ack.compute_context
    return {
        "strategy_id": ack.strategy_id,
        "sentinel_id": ack.sentinel_id,
        "node_ids_crc32": ack.node_ids_crc32,
        "downgraded": context.downgraded,
        "downgrade_reason": context.downgrade_reason.value if context.downgrade_reason else None,
        "safe_mode": context.safe_mode,
        "queue_map": {},
    }


class StrategySubmitView(APIView):
    @extend_schema(
        request=serializers.StrategySubmitIn,
        responses={202: serializers.StrategyAckOut, **_ERRORS},
        summary="Submit a strategy DAG",
    )
    def post(self, request: Request) -> Response:
        incoming = serializers.StrategySubmitIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        ack = strategy_submit(
            dag_json=data["dag_json"],
            node_ids_crc32=data["node_ids_crc32"],
            world_ids=data["world_ids"] or [],
            meta=data["meta"],
            context=data["context"],
        )
        return Response(_ack_body(ack), status=status.HTTP_202_ACCEPTED)


class StrategyStatusView(APIView):
    @extend_schema(responses={200: serializers.StrategyStatusOut, 404: serializers.ErrorOut})
    def get(self, request: Request, strategy_id: str) -> Response:
        found = selectors.strategy_status(strategy_id=strategy_id)
        if found is None:
            raise NotFound(f"no strategy {strategy_id}")
        return Response({"status": found})


def _batch_body(ack: BatchAck) -> dict[str, Any]:
    body: dict[str, Any] = {
        "batch_id": ack.batch_id,
        "world_id": ack.world_id,
        "scope": ack.scope,
        "counts": {"total": ack.total, "reduce_only": ack.reduce_only},
        "reduce_only_ratio": ack.reduce_only_ratio,
    }
    if ack.mode is not None:
        body["mode"] = ack.mode
    if ack.shared_account:
        body["shared_account"] = True
    return body


class RebalanceBatchView(APIView):
    @extend_schema(
        request=serializers.RebalanceIn,
        responses={202: serializers.RebalanceAckOut, **_ERRORS},
        summary="Submit rebalance orders (one batch or the multi-world form)",
    )
    def post(self, request: Request) -> Response:
        incoming = serializers.RebalanceIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if "orders" in data:
            groups = group_single(data.get("world_id"), data["scope"], data["orders"])
        else:
            groups = group_multi(
                data.get("per_world"), data.get("global"), data.get("per_strategy")
            )
        acks = rebalance_submit(
            groups=groups,
            mode=data.get("mode"),
            shared_account=data["shared_account"],
            execution_domain=data.get("execution_domain"),
        )
        return Response(
            {"batches": [_batch_body(a) for a in acks]}, status=status.HTTP_202_ACCEPTED
        )


@csrf_exempt  # a POST to an unknown path hears 404, not a CSRF failure page
def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """JSON 404 for any unknown URL, so clients never parse an HTML page."""
    return JsonResponse({"code": "E_NOT_FOUND", "message": "no such resource"}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"code": "E_INTERNAL", "message": "internal error"}, status=500)
