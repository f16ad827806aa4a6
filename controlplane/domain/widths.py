"""The longest value each stored id or label may hold: the model's column widths, and the
bounds the API states in its refusals, from one definition."""

from __future__ import annotations

WORLD_ID = 200
# An order's ids: not columns, but stored in the batch's orders and the record, and shown
# in the admin; the contract's ids are far shorter.
SYMBOL = 100
STRATEGY_ID = 200
EXECUTION_DOMAIN = 100
MODE = 100
SCOPE = 20
# A batch id is its world id, a colon and 32 hex digits.
BATCH_ID = 250
IDEMPOTENCY_KEY = 255
CREDENTIAL_NAME = 200

# Each id-like key of an order, and its bound.
ORDER_IDS = {"symbol": SYMBOL, "strategy_id": STRATEGY_ID, "mode": MODE,
             "execution_domain": EXECUTION_DOMAIN}  # fmt: skip
# meta and context: free-form, but each submission stores them twice (row and record).
META_KEYS = 1_000  # keys in all, at every depth
META_STRING = 10_000  # characters in one key or string value
