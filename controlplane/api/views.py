"""Thin REST views: validate the shape, call the service, shape the answer."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from controlplane import selectors
from controlplane.api import examples, schema, serializers
from controlplane.errors import codes as error_codes
from controlplane.models import ApiCredential
from controlplane.services.idempotency import idempotency_claim
from controlplane.services.rebalancing import rebalance_submit
from controlplane.services.strategies import strategy_submit


def _credential(request: Request) -> ApiCredential | None:
    """The sender, as the authenticator set it; None for an anonymous dev call."""
    return request.auth if isinstance(request.auth, ApiCredential) else None


class StrategySubmitView(APIView):
    @extend_schema(
        operation_id=error_codes.SUBMIT_STRATEGY,
        request=serializers.StrategySubmitIn,
        examples=examples.SUBMIT_EXAMPLES,
        responses={
            202: serializers.StrategyAckOut,
            **schema.error_responses(error_codes.SUBMIT_STRATEGY),
        },
        summary="Submit a strategy DAG",
    )
    def post(self, request: Request) -> Response:
        incoming = serializers.StrategySubmitIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        ack = strategy_submit(request=incoming.validated_data, credential=_credential(request))
        return Response(
            serializers.rendered(serializers.StrategyAckOut, ack), status=status.HTTP_202_ACCEPTED
        )


class StrategyStatusView(APIView):
    @extend_schema(
        operation_id=error_codes.STRATEGY_STATUS,
        responses={
            200: serializers.StrategyStatusOut,
            **schema.error_responses(error_codes.STRATEGY_STATUS),
        },
        summary="A strategy submission's state",
    )
    def get(self, request: Request, strategy_id: str) -> Response:
        found = selectors.strategy_status(strategy_id=strategy_id, viewer=_credential(request))
        if found is None:
            raise NotFound(f"no strategy {strategy_id}")
        return Response(serializers.rendered(serializers.StrategyStatusOut, {"status": found}))


class RebalanceBatchView(APIView):
    @extend_schema(
        operation_id=error_codes.SUBMIT_REBALANCE,
        request=serializers.RebalanceIn,
        examples=examples.REBALANCE_EXAMPLES,
        parameters=[schema.IDEMPOTENCY_KEY],
        responses={
            202: serializers.RebalanceAckOut,
            **schema.error_responses(error_codes.SUBMIT_REBALANCE),
        },
        summary="Submit rebalance orders (one batch or the multi-world form)",
    )
    def post(self, request: Request) -> Response:
        sender = _credential(request)
        claim = idempotency_claim(
            header=request.headers.get("Idempotency-Key"),
            credential_id=sender.pk if sender is not None else None,
            body=request.data,
        )
        incoming = serializers.RebalanceIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        accepted = rebalance_submit(request=incoming.validated_data, claim=claim, credential=sender)
        response = Response(
            serializers.rendered(serializers.RebalanceAckOut, accepted),
            status=status.HTTP_202_ACCEPTED,
        )
        if accepted.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class RebalanceBatchStatusView(APIView):
    @extend_schema(
        operation_id=error_codes.BATCH_STATUS,
        responses={
            200: serializers.BatchStatusOut,
            **schema.error_responses(error_codes.BATCH_STATUS),
        },
        summary="A rebalance batch's state, counts and trace times",
    )
    def get(self, request: Request, batch_id: str) -> Response:
        found = selectors.batch_status(batch_id=batch_id, viewer=_credential(request))
        if found is None:
            raise NotFound(f"no rebalance batch {batch_id}")
        return Response(serializers.rendered(serializers.BatchStatusOut, found))


@csrf_exempt  # a POST to an unknown path hears 404, not a CSRF failure page
def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    """JSON 404 for any unknown URL, so clients never parse an HTML page."""
    code = error_codes.NOT_FOUND
    return JsonResponse(
        {"code": code, "message": "no such resource"}, status=error_codes.status_of(code)
    )


def server_error(request: HttpRequest) -> JsonResponse:
    code = error_codes.INTERNAL
    return JsonResponse(
        {"code": code, "message": "internal error"}, status=error_codes.status_of(code)
    )
