"""A kept database connection that the server dropped between two requests (or two
Celery tasks) is replaced at the first statement of the next one, instead of Django's
health check (`CONN_HEALTH_CHECKS`), which costs every request a `SELECT 1` round trip.

`arm_connections()` runs when a request or a Celery task starts (`install()`, called by
ControlPlaneConfig.ready): the next statement on each kept connection is then its first
one since. Only that statement is guarded, and only
when nothing can be lost by changing connections: no transaction is open on the server
(libpq's transaction status is idle) and either the connection is in autocommit outside
any atomic block, or it is in an outermost `atomic()` block (entered in autocommit) that
has sent nothing yet (psycopg sends BEGIN with the first statement). Then:

- before it is sent: when psycopg knows the connection is closed, or its socket is
  readable (an idle PostgreSQL connection receives nothing unasked but the server's
  goodbye: a terminated backend, a restart, `idle_session_timeout`), the connection is
  replaced and the statement runs on the new one;
- after it failed: when it raised OperationalError or InterfaceError and psycopg has
  marked the connection closed (a real query error leaves it open), the connection is
  replaced and the statement runs again, once, if it cannot have changed anything: a
  single SELECT in autocommit, or any single statement opening the atomic block's
  transaction (the server rolled that transaction back with the connection). A write
  in autocommit may have committed before the answer was lost: it is not retried, nor
  is executemany.

Inside an atomic block the replacement keeps Django's transaction state as `Atomic`
expects it at exit (the block stack, savepoint ids, on-commit callbacks), which
`connect()` would otherwise reset. Each replacement logs one `event=db_reconnected` line
and counts in `controlplane_degraded_total{event="db_reconnected"}`.
"""

from __future__ import annotations

import contextlib
import logging
import select
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from celery.signals import task_prerun
from django.core.signals import request_started
from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg.pq import TransactionStatus

from commitlog.telemetry.counters import counters_add
from commitlog.telemetry.degraded import COUNTER as DEGRADED_COUNTER

logger = logging.getLogger(__name__)

EVENT = "db_reconnected"


def install() -> None:
    """Arm the guard when a request (Django's request_started) or a Celery task starts."""
    request_started.connect(arm_connections, dispatch_uid="config.db_retry.request")
    task_prerun.connect(_arm_for_task, dispatch_uid="config.db_retry.task", weak=False)


def _arm_for_task(task: Any = None, **kwargs: Any) -> None:
    # An eager task runs inside its caller, which may have sent statements already.
    eager = getattr(getattr(task, "request", None), "is_eager", False)
    if not eager and not connections["default"].in_atomic_block:
        arm_connections()


def arm_connections(**kwargs: Any) -> None:
    """A request or a task starts: guard the next statement on each kept connection."""
    for db in connections.all(initialized_only=True):
        if db.connection is None:
            continue  # a new connection will be opened: nothing to replace
        guard = next((w for w in db.execute_wrappers if isinstance(w, FirstStatementGuard)), None)
        if guard is None:
            guard = FirstStatementGuard()
            # First: outermost, and a `connection.execute_wrapper()` block open now still
            # pops its own wrapper (the last) when it ends.
            db.execute_wrappers.insert(0, guard)
        guard.armed = True


class FirstStatementGuard:
    """An entry of `connection.execute_wrappers`; it acts only while armed."""

    def __init__(self) -> None:
        self.armed = False

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: Any,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        if not self.armed:
            return execute(sql, params, many, context)
        self.armed = False
        db: BaseDatabaseWrapper = context["connection"]
        if not _nothing_to_lose(db):
            return execute(sql, params, many, context)
        atomic = db.in_atomic_block
        if _gone_while_idle(db):
            _replace(db, context["cursor"])
            _said(db, when="before_statement", atomic=atomic, error="closed while idle")
            return execute(sql, params, many, context)
        try:
            return execute(sql, params, many, context)
        except (OperationalError, InterfaceError) as exc:
            if not (_closed(db) and _unchanged_by(sql, many, atomic=atomic)):
                raise
            _replace(db, context["cursor"])
            _said(db, when="statement_failed", atomic=atomic, error=exc)
            return execute(sql, params, many, context)


def _nothing_to_lose(db: BaseDatabaseWrapper) -> bool:
    """No transaction open on the server and none of Django's that has sent anything."""
    raw = db.connection
    if raw is None or db.closed_in_transaction or db.needs_rollback:
        return False
    idle = raw.info.transaction_status == TransactionStatus.IDLE
    if db.in_atomic_block:
        # The outermost block entered in autocommit (commit_on_exit), no savepoint sent.
        return idle and not db.autocommit and db.commit_on_exit and not any(db.savepoint_ids)
    # In autocommit a connection psycopg knows is closed had nothing open either.
    return bool(db.autocommit) and (idle or bool(raw.closed))


def _closed(db: BaseDatabaseWrapper) -> bool:
    return db.connection is None or bool(db.connection.closed)


def _gone_while_idle(db: BaseDatabaseWrapper) -> bool:
    """Whether the server closed the idle connection: psycopg knows, or it wrote to us."""
    if _closed(db):
        return True
    try:
        readable, _, _ = select.select([db.connection.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(readable)


def _unchanged_by(sql: Any, many: bool, *, atomic: bool) -> bool:
    """Whether a failed first statement cannot have changed anything on the server."""
    if many:
        return False  # its parameters may be an iterator the first attempt consumed
    if atomic:
        return True  # it opened the transaction, which died uncommitted with the connection
    return isinstance(sql, str) and sql.lstrip()[:6].upper() == "SELECT"


@dataclass
class _TransactionState:
    """What connect() resets and an open atomic block still needs."""

    in_atomic_block: bool
    commit_on_exit: bool
    savepoint_state: int
    atomic_blocks: list[Any] = field(default_factory=list)
    savepoint_ids: list[Any] = field(default_factory=list)
    run_on_commit: list[Any] = field(default_factory=list)

    @classmethod
    def of(cls, db: BaseDatabaseWrapper) -> _TransactionState:
        return cls(
            in_atomic_block=db.in_atomic_block,
            commit_on_exit=db.commit_on_exit,
            savepoint_state=db.savepoint_state,
            atomic_blocks=list(db.atomic_blocks),
            savepoint_ids=list(db.savepoint_ids),
            run_on_commit=list(db.run_on_commit),
        )

    def restore(self, db: BaseDatabaseWrapper) -> None:
        db.in_atomic_block = self.in_atomic_block
        db.commit_on_exit = self.commit_on_exit
        db.savepoint_state = self.savepoint_state
        db.atomic_blocks = self.atomic_blocks
        db.savepoint_ids = self.savepoint_ids
        db.run_on_commit = self.run_on_commit


def _replace(db: BaseDatabaseWrapper, cursor: Any) -> None:
    """A new connection in the old one's place, and a new DB-API cursor for `cursor`."""
    state = _TransactionState.of(db)
    # Outside a block, close() lets the connection go instead of marking the block broken.
    db.in_atomic_block = False
    with contextlib.suppress(DatabaseError):  # a broken connection: close() forgets it anyway
        db.close()
    try:
        db.ensure_connection()  # connect(): Django's transaction state is reset here
        if state.in_atomic_block:
            db.set_autocommit(False)  # client side only, as Atomic.__enter__ left it
    except BaseException:
        # As if the block's connection were closed: Atomic rolls back and lets it go.
        _discard(db)
        state.restore(db)
        if state.in_atomic_block:
            db.closed_in_transaction = True
            db.needs_rollback = True
        raise
    state.restore(db)
    old = cursor.cursor
    with db.wrap_database_errors:
        cursor.cursor = db.create_cursor(getattr(old, "name", None))


def _discard(db: BaseDatabaseWrapper) -> None:
    raw, db.connection = db.connection, None
    if raw is not None:
        with contextlib.suppress(psycopg.Error):
            raw.close()


def _said(db: BaseDatabaseWrapper, *, when: str, atomic: bool, error: object) -> None:
    logger.warning(
        "event=%s alias=%s when=%s in_atomic_block=%s error=%s",
        EVENT,
        db.alias,
        when,
        atomic,
        error,
    )
    # When the caller's transaction commits (at once in autocommit): the counter's row
    # lock is never held by a request's transaction.
    db.on_commit(_count, robust=True)


def _count() -> None:
    counters_add({(DEGRADED_COUNTER, EVENT): 1})
