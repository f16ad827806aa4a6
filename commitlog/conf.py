"""Every setting the commit log reads, declared once with its default, its minimum and its
meaning; read through `commitlog_settings()`.

A project sets any of them by name in its Django settings (the environment variable of the
same name, in this project: config.settings reads each declaration here). What it leaves
unset takes the default below. The values are read once and read again when a setting
changes (tests' override_settings), as REST framework's api_settings does.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import timedelta
from typing import Any, TypeVar

from django.core.signals import setting_changed
from django.dispatch import receiver


def _setting(default: Any, meaning: str, *, minimum: float | None = None) -> Any:
    return field(default=default, metadata={"meaning": meaning, "minimum": minimum})


def _built(default_factory: Any, meaning: str) -> Any:
    # Values a project builds itself (security options, keys): no single environment reading.
    return field(default_factory=default_factory, metadata={"meaning": meaning, "built": True})


@dataclass(frozen=True)
class CommitLogSettings:
    # --- the log ---
    commitlog_bootstrap: str = _setting("", "Kafka bootstrap servers; empty: the writer is off")
    commitlog_topic: str = _setting("commit-log", "the commit-log topic")
    commitlog_group: str = _setting("gateway-commits", "the consumer group of consume_commitlog")
    commitlog_transactional_id: str = _setting(
        "gateway-writer", "the relay's Kafka transactional.id (one relay at a time holds it)"
    )
    commitlog_topic_partitions: int = _setting(
        3, "partitions ensure_commitlog_topic creates the topic with", minimum=1
    )
    commitlog_topic_replication: int = _setting(
        1, "replication factor ensure_commitlog_topic creates the topic with", minimum=1
    )
    commitlog_max_record_bytes: int = _setting(
        900_000,
        "largest record value a write may produce (below the broker's message.max.bytes)",
        minimum=1,
    )
    commitlog_client_config: dict[str, str] = _built(  # noqa: RUF009 (a field(), as _setting)
        dict, "librdkafka security options of every client (SASL, TLS)"
    )
    commitlog_signing_keys: tuple[str, ...] = _built(
        tuple, "HMAC keys: the first signs each record, all are accepted"
    )
    commitlog_view_timeout_seconds: float = _setting(
        2.0, "how long the admin's look at one record in the log may take"
    )
    # --- the relay ---
    relay_batch_size: int = _setting(1000, "rows per Kafka transaction", minimum=1)
    relay_max_attempts: int = _setting(10, "failed publishes before a row is dead", minimum=1)
    relay_backoff_base_seconds: float = _setting(1.0, "first retry delay of a failed row")
    relay_backoff_max_seconds: float = _setting(300.0, "longest retry delay of a failed row")
    relay_run_budget_seconds: float = _setting(
        20.0, "one relay run publishes until nothing is due or this is spent"
    )
    relay_publish_timeout_seconds: float = _setting(
        10.0, "how long a Kafka transaction may take to commit"
    )
    relay_beat_seconds: float = _setting(5.0, "beat's relay run interval (the safety net)")
    relay_nudge_enabled: bool = _setting(True, "wake the relay after each write commits")
    relay_nudge_expires_seconds: float = _setting(60.0, "a queued nudge older than this is dropped")
    relay_nudge_queued_ttl_seconds: float = _setting(
        2.0, "how long a queued nudge spares other commits theirs"
    )
    # --- upkeep ---
    reconcile_after_seconds: float = _setting(
        60.0, "published rows not read back this long after publishing are republished"
    )
    reconcile_consumer_fresh_seconds: float = _setting(
        30.0, "the consumer must have reported within this for a republish"
    )
    reconcile_beat_seconds: float = _setting(30.0, "beat's reconcile interval")
    commitlog_retention_days: float = _setting(7.0, "the log's bookkeeping is kept this long")
    commitlog_prune_batch_size: int = _setting(
        5000, "rows per table deleted in one transaction", minimum=1
    )
    commitlog_prune_beat_seconds: float = _setting(600.0, "beat's prune interval")
    commitlog_prune_budget_seconds: float = _setting(10.0, "one prune run stops after this")
    # --- the consumer ---
    consumer_batch_size: int = _setting(500, "records applied per database transaction", minimum=1)
    consumer_session_timeout_ms: int = _setting(10000, "the group member's session", minimum=1)
    consumer_heartbeat_seconds: float = _setting(
        5.0, "an idle consumer still reports its position this often"
    )
    consumer_invalid_record_max_bytes: int = _setting(
        4096,
        "bytes kept of an invalid record's value, key and headers each, and of a conflicting "
        "record's value (with their lengths and the value's digest)",
        minimum=1,
    )
    consumer_pause_before_offset_commit_seconds: float = _setting(
        0.0, "fault injection only: a hold between the DB commit and the offset commit"
    )

    @property
    def writer_enabled(self) -> bool:
        """Publishing needs both a bootstrap and a topic."""
        return bool(self.commitlog_bootstrap and self.commitlog_topic)

    @property
    def retention(self) -> timedelta:
        return timedelta(days=self.commitlog_retention_days)


@dataclass(frozen=True)
class Declaration:
    """One setting as a project sees it: its name, default, type and bounds."""

    name: str
    default: Any
    kind: type
    minimum: float | None
    meaning: str
    built: bool


def declarations() -> tuple[Declaration, ...]:
    found = []
    for spec in fields(CommitLogSettings):
        default = spec.default if spec.default is not MISSING else spec.default_factory()  # type: ignore[operator]
        kind = type(default)
        found.append(
            Declaration(
                name=spec.name.upper(),
                default=default,
                kind=kind,
                minimum=spec.metadata.get("minimum"),
                meaning=spec.metadata["meaning"],
                built=bool(spec.metadata.get("built")),
            )
        )
    return tuple(found)


@functools.cache
def commitlog_settings() -> CommitLogSettings:
    """The settings as the project set them, the rest at their defaults."""
    from django.conf import settings

    given = {
        spec.name: getattr(settings, spec.name.upper())
        for spec in fields(CommitLogSettings)
        if hasattr(settings, spec.name.upper())
    }
    return CommitLogSettings(**given)


T = TypeVar("T")


def built_from_settings(cls: type[T], names: Mapping[str, str], overrides: Mapping[str, Any]) -> T:
    """`cls` with each field in `names` read from the setting it names, then `overrides`:
    how the relay's policy and the consumer's options take their defaults."""
    conf = commitlog_settings()
    return cls(**{**{field: getattr(conf, name) for field, name in names.items()}, **overrides})


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting.lower() in _NAMES:
        commitlog_settings.cache_clear()


_NAMES = frozenset(spec.name for spec in fields(CommitLogSettings))
