"""The transactional outbox: one row per commit-log record still to be (or already) published."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from commitlog.records import Event


class OutboxState(models.TextChoices):
    PENDING = "pending", "pending"
    PUBLISHED = "published", "published"
    DEAD = "dead", "dead (retries exhausted)"


class OutboxEvent(models.Model):
    # The id is the outbox order: the relay publishes rows by ascending id.
    id = models.BigAutoField(primary_key=True)
    event = models.CharField(
        max_length=40, choices=[(e.value, e.value) for e in Event], help_text="Record event."
    )
    aggregate_id = models.CharField(
        max_length=250, db_index=True, help_text="Strategy id or batch id the record is about."
    )
    key = models.CharField(max_length=300, help_text="Kafka record key.")
    value = models.BinaryField(help_text="Kafka record value, fixed when the row was written.")
    state = models.CharField(
        max_length=20, choices=OutboxState.choices, default=OutboxState.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Failed publish attempts.")
    next_attempt_at = models.DateTimeField(
        auto_now_add=True, help_text="Not retried before this time."
    )
    last_error = models.TextField(blank=True, default="", help_text="Last publish failure.")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_partition = models.IntegerField(null=True, blank=True)
    published_offset = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "outbox row"
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(state=OutboxState.PENDING),
                name="outbox_pending_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=OutboxState.values), name="outbox_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state=OutboxState.PUBLISHED)
                | Q(published_at__isnull=False, published_offset__isnull=False),
                name="outbox_published_has_position",
            ),
            models.UniqueConstraint(fields=["key"], name="outbox_key_unique"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.key}"
