"""Intake tasks: ids in, a call into the core, idempotent."""

import logging
from datetime import timedelta

from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from dsar.clock import SystemClock
from dsar.db import session_scope
from dsar.intake import service
from dsar.models import InboundMessage, utcnow
from dsar.settings import get_settings
from tasks.app import app
from tasks.notices import deliver_notices

log = logging.getLogger(__name__)
BROKER_DOWN = (BrokerError, ConnectionError, OSError)


def process_locked(session: Session, inbound_ids: list[int], *, fill: bool = False) -> list[int]:
    """Process stored messages while holding their rows, so that two deliveries of the same id (a requeue racing
    the original task) can never both open cases. The rows are locked before their status is read: SELECT ...
    FOR UPDATE on PostgreSQL (no new row versions), a no-op UPDATE on SQLite (which has no row locks; it takes
    the database's write lock).

    `fill`: top the batch up with the oldest other messages still waiting, so a backlog of small tasks (the
    webhook queues whatever arrived together) is worked in full batches, oldest first; the tasks that named
    them later find them done. Returns the notices to hand to the outbox after commit."""
    named = col(InboundMessage.id).in_(inbound_ids)
    if session.get_bind().dialect.name == "postgresql":
        session.exec(select(InboundMessage.id).where(named).with_for_update()).all()
    else:
        session.exec(update(InboundMessage).where(named).values(status=InboundMessage.status))  # type: ignore[call-overload]
    if fill:
        inbound_ids = inbound_ids + _oldest_waiting(session, inbound_ids,
                                                    get_settings().intake_batch_size - len(inbound_ids))
    return service.process_many(session, inbound_ids, clock=SystemClock())


def _oldest_waiting(session: Session, taken: list[int], limit: int) -> list[int]:
    """Up to `limit` other stored messages, oldest first, locked (rows another worker holds are skipped)."""
    if limit <= 0:
        return []
    query = (select(InboundMessage.id).where(InboundMessage.status == "stored", col(InboundMessage.id).not_in(taken))
             .order_by(col(InboundMessage.id)).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(session.exec(query))  # type: ignore[arg-type]


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=20)
def process_inbound(inbound_ids: list[int] | int) -> int:
    """Turn stored messages into cases (or quarantine them), in one transaction, then hand their notices to the
    outbox as one batch. (A single id is what tasks queued by earlier versions carry.)

    A message whose processing raises an unexpected error must not hold back the rest of its batch: the batch
    is then processed one message at a time, and the failing one is quarantined with the error's type."""
    ids = [inbound_ids] if isinstance(inbound_ids, int) else list(inbound_ids)
    try:
        with session_scope() as session:
            notice_ids = process_locked(session, ids, fill=True)
    except OperationalError:
        raise  # the database is away: retried with backoff
    except Exception:
        log.exception("intake: batch of %d failed; processing its messages one at a time", len(ids))
        notice_ids = []
        for inbound_id in ids:
            notice_ids += _process_alone(inbound_id)
    if notice_ids:
        deliver_notices.delay(notice_ids)
    return len(ids)


def _process_alone(inbound_id: int) -> list[int]:
    try:
        with session_scope() as session:
            return process_locked(session, [inbound_id])
    except OperationalError:
        raise
    except Exception as exc:
        log.exception("intake: inbound %s could not be processed; quarantined", inbound_id)
        with session_scope() as session:
            service.quarantine_failed(session, inbound_id, exc)
        return []


def enqueue(inbound_ids: list[int]) -> bool:
    """Queue stored messages for processing as one batch; False when the broker cannot be reached. The messages
    are safe in the database either way, and `requeue_stored` queues them once the broker is back."""
    if not inbound_ids:
        return True
    try:
        process_inbound.delay(inbound_ids)
    except BROKER_DOWN as exc:
        log.warning("broker unavailable, %d inbound messages stay stored for requeue_stored: %s", len(inbound_ids), exc)
        return False
    return True


@app.task
def requeue_stored(older_than_seconds: int | None = None, limit: int = 1000) -> int:
    """Queue again the messages still 'stored' some time after arrival (the broker was down when they came, or
    their task was lost). Processing is idempotent and locked, so a message queued twice is processed once."""
    seconds = get_settings().intake_requeue_seconds if older_than_seconds is None else older_than_seconds
    cutoff = utcnow() - timedelta(seconds=seconds)
    with session_scope() as session:
        ids = list(session.exec(
            select(InboundMessage.id).where(InboundMessage.status == "stored", col(InboundMessage.received_at) < cutoff)
            .order_by(col(InboundMessage.id)).limit(limit)
        ))
    batch = get_settings().intake_batch_size
    for i in range(0, len(ids), batch):
        process_inbound.delay(ids[i:i + batch])
    return len(ids)
