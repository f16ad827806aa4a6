"""A rebalance batch's scope: the one list the API, the model, its check constraint and
the credentials' allowed scopes all read."""

from __future__ import annotations

from django.db.models.enums import TextChoices


class Scope(TextChoices):
    PER_WORLD = "per_world", "per world"
    GLOBAL = "global", "global"
    PER_STRATEGY = "per_strategy", "per strategy"
