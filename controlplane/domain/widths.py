"""The longest value each stored id or label may hold: the model's column widths, and the
bounds the API states in its refusals, from one definition."""

from __future__ import annotations

WORLD_ID = 200
EXECUTION_DOMAIN = 100
MODE = 100
SCOPE = 20
# A batch id is its world id, a colon and 32 hex digits.
BATCH_ID = 250
IDEMPOTENCY_KEY = 255
CREDENTIAL_NAME = 200
