"""Applying batches of records to a real PostgreSQL: dedup, conflicts, invalid, rebuild.

No broker here: records arrive as plain RawRecords, as the handlers are meant to be."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

from commitlog.consumer import applier
from commitlog.consumer.applier import apply_batch
from commitlog.models import ConsumedRecord, InvalidRecord, OutboxEvent, RecordConflict
from commitlog.records import RawRecord
from commitlog.registry import Applied, apply_records
from controlplane.domain.tenancy import GLOBAL_SCOPE
from controlplane.models import ApiCredential, RebalanceBatch, StrategySubmission
from controlplane.services.credentials import credential_issue, credential_limits
from controlplane.services.rebalancing import rebalance_submit
from controlplane.services.strategies import strategy_submit
from tests.support.bodies import crc_of
from tests.support.requests import single_batch, strategy_request_of

pytestmark = pytest.mark.django_db

TOPIC = "commit-log"


def submit(node: str, credential: ApiCredential | None = None) -> OutboxEvent:
    ack = strategy_submit(
        request=strategy_request_of(
            dag_json=json.dumps({"nodes": [{"node_id": node}]}),
            node_ids_crc32=crc_of([node]),
            world_ids=["w1"],
            meta={"execution_domain": "live", "version": "3"},
        ),
        credential=credential,
    )
    return OutboxEvent.objects.get(aggregate_id=ack.strategy_id)


def raw(row: OutboxEvent, offset: int, partition: int = 0, value: bytes | None = None) -> RawRecord:
    return RawRecord(TOPIC, partition, offset, row.key.encode(), value or bytes(row.value))


def test_new_records_mark_known_submissions_recorded_with_their_position() -> None:
    rows = [submit("a"), submit("b")]
    outcome = apply_batch([raw(rows[0], 5, partition=1), raw(rows[1], 9, partition=2)])
    assert (outcome.applied, outcome.duplicates, outcome.invalid, outcome.conflicts) == (2, 0, 0, 0)
    assert outcome.next_offsets == {(TOPIC, 1): 6, (TOPIC, 2): 10}
    first = StrategySubmission.objects.get(strategy_id=rows[0].aggregate_id)
    assert first.status == "recorded"
    assert (first.commitlog_partition, first.commitlog_offset) == (1, 5)
    assert first.recorded_at is not None
    assert ConsumedRecord.objects.count() == 2


def test_the_same_bytes_again_are_dropped_in_one_batch_and_across_batches() -> None:
    row = submit("a")
    first = apply_batch([raw(row, 0), raw(row, 1)])
    assert (first.applied, first.duplicates) == (1, 1)
    recorded_at = StrategySubmission.objects.get().recorded_at
    again = apply_batch([raw(row, 2)])
    assert (again.applied, again.duplicates) == (0, 1)
    submission = StrategySubmission.objects.get()
    assert submission.recorded_at == recorded_at
    assert submission.commitlog_offset == 0
    assert ConsumedRecord.objects.count() == 1


def test_same_key_with_different_content_is_flagged_not_applied() -> None:
    row = submit("a")
    apply_batch([raw(row, 0)])
    tampered = bytes(row.value).replace(b'"version":"3"', b'"version":"4"')
    assert tampered != bytes(row.value)
    outcome = apply_batch([raw(row, 1, value=tampered)])
    assert (outcome.applied, outcome.conflicts) == (0, 1)
    conflict = RecordConflict.objects.get()
    assert conflict.key == row.key
    assert conflict.offset == 1
    assert conflict.applied_sha256 == ConsumedRecord.objects.get().value_sha256
    assert conflict.value_sha256 != conflict.applied_sha256


@pytest.mark.parametrize(
    "value",
    [
        b"not json",
        b"[1, 2, 3]",
        b'["gateway.unknown", 1, "x", {"event": "gateway.unknown"}]',
        b'["gateway.ingest", 1, "not-a-uuid", {"event": "gateway.ingest"}]',
        b'["gateway.ingest", 1, "00000000-0000-0000-0000-000000000001",'
        b' {"event": "gateway.ingest", "strategy_id": "00000000-0000-0000-0000-000000000001"}]',
        b'["gateway.rebalance", 1, "w:1", {"event": "gateway.rebalance", "batch_id": "w:1"}]',
    ],
)
def test_undecodable_records_are_stored_and_skipped(value: bytes) -> None:
    good = submit("good")
    bad = RawRecord(TOPIC, 0, 7, b"ingest:00000000-0000-0000-0000-000000000001", value)
    outcome = apply_batch([bad, raw(good, 8)])
    assert (outcome.invalid, outcome.applied) == (1, 1)
    assert outcome.next_offsets == {(TOPIC, 0): 9}
    stored = InvalidRecord.objects.get()
    assert (stored.partition, stored.offset) == (0, 7)
    assert bytes(stored.value) == value
    assert stored.error
    # redelivered after a crash: stored once
    apply_batch([bad])
    assert InvalidRecord.objects.count() == 1


def test_a_key_that_does_not_match_the_record_is_invalid() -> None:
    row = submit("a")
    outcome = apply_batch([RawRecord(TOPIC, 0, 0, b"ingest:someone-else", bytes(row.value))])
    assert outcome.invalid == 1
    assert "does not match" in InvalidRecord.objects.get().error


def test_unknown_submissions_and_batches_are_rebuilt_from_their_payload() -> None:
    row = submit("a")
    orders = [{"symbol": "A", "quantity": 1, "reduce_only": True}]
    rebalance_submit(request=single_batch("w9", orders, mode="live", shared_account=True))
    batch_row = OutboxEvent.objects.get(event="gateway.rebalance")
    original = StrategySubmission.objects.get()
    original_batch = RebalanceBatch.objects.get()
    StrategySubmission.objects.all().delete()
    RebalanceBatch.objects.all().delete()

    outcome = apply_batch([raw(row, 3), raw(batch_row, 4)])
    assert outcome.applied == 2
    rebuilt = StrategySubmission.objects.get()
    for field in (
        "strategy_id",
        "dag_hash",
        "dag",
        "node_ids_crc32",
        "insert_sentinel",
        "world_ids",
    ):
        assert getattr(rebuilt, field) == getattr(original, field), field
    for field in ("world_id", "execution_domain", "compute_context", "meta", "submitted_at"):
        assert getattr(rebuilt, field) == getattr(original, field), field
    assert rebuilt.status == "recorded"
    batch = RebalanceBatch.objects.get()
    for field in ("batch_id", "world_id", "scope", "orders", "total_orders", "reduce_only_orders"):
        assert getattr(batch, field) == getattr(original_batch, field), field
    assert (batch.mode, batch.shared_account, batch.status) == ("live", True, "recorded")
    assert set(ConsumedRecord.objects.values_list("rebuilt", flat=True)) == {True}


def test_rebuild_that_clashes_with_another_strategy_dag_is_a_conflict() -> None:
    row = submit("a")
    payload = json.loads(bytes(row.value))
    other_id = "11111111-1111-4111-8111-111111111111"
    payload[2] = other_id
    payload[3]["strategy_id"] = other_id
    other_value = json.dumps(payload).encode()
    outcome = apply_batch([RawRecord(TOPIC, 0, 0, f"ingest:{other_id}".encode(), other_value)])
    assert (outcome.applied, outcome.conflicts) == (0, 1)
    assert "already belongs to strategy" in RecordConflict.objects.get().reason
    assert StrategySubmission.objects.count() == 1


def test_a_rebuild_is_in_the_global_scope_where_a_tenants_copy_does_not_clash() -> None:
    tenant = credential_issue(name="t", limits=credential_limits(worlds=["w1"])).credential
    row = submit("a", credential=tenant)
    payload = json.loads(bytes(row.value))
    other_id = "11111111-1111-4111-8111-111111111111"
    payload[2] = other_id
    payload[3]["strategy_id"] = other_id
    other_value = json.dumps(payload).encode()
    outcome = apply_batch([RawRecord(TOPIC, 0, 0, f"ingest:{other_id}".encode(), other_value)])
    assert (outcome.applied, outcome.conflicts) == (1, 0)
    rebuilt = StrategySubmission.objects.get(strategy_id=other_id)
    assert (rebuilt.owner_scope, rebuilt.credential_id) == (GLOBAL_SCOPE, None)


def test_consumed_invalid_and_conflict_pages_link_to_the_submission(admin_client) -> None:
    row = submit("a")
    apply_batch([raw(row, 0)])
    tampered = bytes(row.value).replace(b'"version":"3"', b'"version":"4"')
    apply_batch([raw(row, 1, value=tampered), RawRecord(TOPIC, 0, 2, b"k", b"<junk>")])
    link = f"/admin/controlplane/strategysubmission/{row.aggregate_id}/change/"
    assert link in admin_client.get("/admin/commitlog/consumedrecord/").content.decode()
    conflict = RecordConflict.objects.get()
    page = admin_client.get(f"/admin/commitlog/recordconflict/{conflict.pk}/change/")
    assert link in page.content.decode()
    assert "&quot;version&quot;: &quot;4&quot;" in page.content.decode()
    invalid = InvalidRecord.objects.get()
    page = admin_client.get(f"/admin/commitlog/invalidrecord/{invalid.pk}/change/")
    assert "&lt;junk&gt;" in page.content.decode()


def test_the_cycle_collector_runs_again_after_a_batch_even_one_that_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row = submit("a")
    assert gc.isenabled()
    collector_during_apply: list[bool] = []
    real_apply_records = apply_records

    def spying(items: Any) -> Applied:
        collector_during_apply.append(gc.isenabled())
        return real_apply_records(items)

    monkeypatch.setattr(applier, "apply_records", spying)
    assert apply_batch([raw(row, 0)]).applied == 1
    assert collector_during_apply == [False]
    assert gc.isenabled()

    def failing(items: Any) -> Applied:
        raise RuntimeError("database went away")

    monkeypatch.setattr(applier, "apply_records", failing)
    with pytest.raises(RuntimeError):
        apply_batch([raw(submit("b"), 1)])
    assert gc.isenabled()


def test_a_collector_paused_by_someone_else_stays_paused() -> None:
    row = submit("a")
    gc.disable()
    try:
        assert apply_batch([raw(row, 0)]).applied == 1
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_with_its_mark_pruned_a_record_already_recorded_is_a_duplicate() -> None:
    row = submit("a")
    assert apply_batch([raw(row, 0)]).applied == 1
    recorded = StrategySubmission.objects.values_list("recorded_at", "commitlog_offset").get()
    ConsumedRecord.objects.all().delete()  # pruned

    again = apply_batch([raw(row, 0), raw(row, 7, partition=2)])
    assert (again.applied, again.duplicates, again.conflicts) == (0, 2, 0)
    assert StrategySubmission.objects.values_list("recorded_at", "commitlog_offset").get() == (
        recorded
    )
    assert not ConsumedRecord.objects.exists()  # the submission answers, not a new mark


def test_with_its_mark_pruned_other_bytes_under_a_recorded_key_are_a_conflict() -> None:
    row = submit("a")
    assert apply_batch([raw(row, 0)]).applied == 1
    applied_digest = StrategySubmission.objects.get().commitlog_sha256
    ConsumedRecord.objects.all().delete()  # pruned
    other = bytes(row.value).replace(b'"version":"3"', b'"version":"4"', 1)
    assert other != bytes(row.value)

    outcome = apply_batch([raw(row, 5, value=other)])
    assert (outcome.applied, outcome.conflicts) == (0, 1)
    conflict = RecordConflict.objects.get()
    assert conflict.applied_sha256 == applied_digest
    assert "different content" in conflict.reason
    assert StrategySubmission.objects.get().commitlog_offset == 0  # not applied
    assert not ConsumedRecord.objects.exists()  # no mark carrying bytes never applied
