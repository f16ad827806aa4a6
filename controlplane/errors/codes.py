"""The one definition of the API's error codes: each code's HTTP status, what it means,
and which operations may answer it. Exceptions take their code and status from here, and
the OpenAPI schema lists each operation's codes per status from here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

# The operations of the REST API, by their OpenAPI operationId.
SUBMIT_STRATEGY = "strategies_create"
STRATEGY_STATUS = "strategies_status_retrieve"
SUBMIT_REBALANCE = "rebalancing_batches_create"
BATCH_STATUS = "rebalancing_batches_retrieve"

WRITES = frozenset({SUBMIT_STRATEGY, SUBMIT_REBALANCE})
READS = frozenset({STRATEGY_STATUS, BATCH_STATUS})
EVERY = WRITES | READS
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    meaning: str
    answered_by: frozenset[str]


CODES: dict[str, ErrorCode] = {}


def _define(code: str, status: int, meaning: str, answered_by: frozenset[str]) -> str:
    CODES[code] = ErrorCode(code, status, meaning, answered_by)
    return code


MALFORMED_JSON = _define("E_MALFORMED_JSON", 400, "the body is not JSON (or not UTF-8)", WRITES)
INVALID_IDEMPOTENCY_KEY = _define(
    "E_INVALID_IDEMPOTENCY_KEY",
    400,
    "the Idempotency-Key header is empty, longer than 255 characters, not printable or "
    "has surrounding spaces",
    frozenset({SUBMIT_REBALANCE}),
)
UNAUTHENTICATED = _define(
    "E_UNAUTHENTICATED",
    401,
    "no credential, or an unknown, revoked or undecodable one (with WWW-Authenticate)",
    EVERY,
)
FORBIDDEN = _define(
    "E_FORBIDDEN",
    403,
    "a world or rebalance scope outside the credential's limits (nothing written); also a "
    "signed-in admin user who is not staff, on the schema and docs",
    WRITES,
)
NOT_FOUND = _define("E_NOT_FOUND", 404, "no such resource", READS)
METHOD_NOT_ALLOWED = _define(
    "E_METHOD_NOT_ALLOWED", 405, "the path does not offer this method (see Allow)", NONE
)
NOT_ACCEPTABLE = _define(
    "E_NOT_ACCEPTABLE", 406, "the Accept header excludes application/json", EVERY
)
DUPLICATE = _define(
    "E_DUPLICATE",
    409,
    "a strategy with the same DAG was already submitted in the credential's owner scope; "
    "`strategy_id` names it when the credential may see that strategy",
    frozenset({SUBMIT_STRATEGY}),
)
PAYLOAD_TOO_LARGE = _define(
    "E_PAYLOAD_TOO_LARGE", 413, "the body is over API_MAX_BODY_BYTES", WRITES
)
RECORD_TOO_LARGE = _define(
    "E_RECORD_TOO_LARGE",
    413,
    "the commit-log record would be over COMMITLOG_MAX_RECORD_BYTES",
    WRITES,
)
UNSUPPORTED_MEDIA_TYPE = _define(
    "E_UNSUPPORTED_MEDIA_TYPE", 415, "the Content-Type is not application/json", WRITES
)
INVALID_REQUEST = _define(
    "E_INVALID_REQUEST",
    422,
    "a field is missing or of the wrong type, or the body holds NUL characters or lone "
    "surrogates; `errors` lists every field at fault",
    WRITES,
)
JSON_TOO_DEEP = _define(
    "E_JSON_TOO_DEEP", 422, "the body nests deeper than API_MAX_JSON_DEPTH", WRITES
)
INVALID_DAG = _define(
    "E_INVALID_DAG",
    422,
    "dag_json does not decode to a DAG object whose nodes each have a unique node_id "
    "(NaN, Infinity or a number beyond a double count as not JSON)",
    frozenset({SUBMIT_STRATEGY}),
)
CHECKSUM_MISMATCH = _define(
    "E_CHECKSUM_MISMATCH",
    422,
    "node_ids_crc32 is not the CRC32 chained over the DAG's node ids",
    frozenset({SUBMIT_STRATEGY}),
)
WORLD_IDS_REQUIRED = _define(
    "E_WORLD_IDS_REQUIRED",
    422,
    "world_ids is missing, null or has no non-blank world id (or one too long)",
    frozenset({SUBMIT_STRATEGY}),
)
WORLD_ID_DEPRECATED = _define(
    "E_WORLD_ID_DEPRECATED",
    422,
    "the request carries a non-null world_id (send world_ids)",
    frozenset({SUBMIT_STRATEGY}),
)
INVALID_CONTEXT = _define(
    "E_INVALID_CONTEXT",
    422,
    "context has an unknown key, or meta or context a value that cannot be stored "
    "(NUL, lone surrogates, an over-long execution_domain)",
    frozenset({SUBMIT_STRATEGY}),
)
INVALID_ORDERS = _define(
    "E_INVALID_ORDERS",
    422,
    "an order or per_strategy entry is malformed; `errors` names where",
    frozenset({SUBMIT_REBALANCE}),
)
NO_ORDERS = _define("E_NO_ORDERS", 422, "the request has no orders", frozenset({SUBMIT_REBALANCE}))
SHADOW_ORDERS_BLOCKED = _define(
    "E_SHADOW_ORDERS_BLOCKED",
    422,
    "a mode or execution_domain (of the request or of an order) means shadow",
    frozenset({SUBMIT_REBALANCE}),
)
IDEMPOTENCY_KEY_REUSED = _define(
    "E_IDEMPOTENCY_KEY_REUSED",
    422,
    "this credential already used the Idempotency-Key for another body",
    frozenset({SUBMIT_REBALANCE}),
)
INVALID_ID = _define(
    "E_INVALID_ID",
    422,
    "an id (world, batch, strategy, symbol, mode, execution domain) holds a control or "
    "format character",
    WRITES,
)
NUMBER_TOO_LARGE = _define(
    "E_NUMBER_TOO_LARGE",
    422,
    "a number is beyond what a double holds; `errors` names the field",
    WRITES,
)
TOO_MANY_ITEMS = _define(
    "E_TOO_MANY_ITEMS",
    422,
    "more worlds, batches, orders or strategies than one request may carry (API_MAX_*)",
    WRITES,
)
THROTTLED = _define(
    "E_THROTTLED",
    429,
    "beyond the credential's rate (API_THROTTLE_*_RATE), or the address's failed "
    "authentications (API_AUTH_FAILURE_RATE); retry after Retry-After seconds",
    EVERY,
)
INTERNAL = _define("E_INTERNAL", 500, "an unexpected failure; nothing was written", NONE)
UNAVAILABLE = _define(
    "E_UNAVAILABLE",
    503,
    "the database is unreachable; nothing was written; retry after Retry-After seconds",
    EVERY,
)


def status_of(code: str) -> int:
    return CODES[code].status


def answers_of(operation_id: str) -> dict[int, list[ErrorCode]]:
    """The error codes an operation may answer, per HTTP status."""
    found: dict[int, list[ErrorCode]] = defaultdict(list)
    for entry in CODES.values():
        if operation_id in entry.answered_by:
            found[entry.status].append(entry)
    return dict(sorted(found.items()))
