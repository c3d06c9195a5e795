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
from tasks.notices import deliver_notice

log = logging.getLogger(__name__)
BROKER_DOWN = (BrokerError, ConnectionError, OSError)


def process_locked(session: Session, inbound_id: int) -> tuple[service.IntakeResult, list[int]]:
    """Process one stored message while holding its row, so that two deliveries of the same id (a requeue racing
    the original task) can never both open cases. The no-op UPDATE takes the row lock on PostgreSQL and the
    write lock on SQLite (where SELECT ... FOR UPDATE does not exist) before the status is read."""
    claim = update(InboundMessage).where(col(InboundMessage.id) == inbound_id).values(status=InboundMessage.status)
    session.exec(claim)  # type: ignore[call-overload]
    result = service.process(session, inbound_id, clock=SystemClock())
    return result, service.queued_notices(session, inbound_id)


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=20)
def process_inbound(inbound_id: int) -> dict:
    """Turn one stored message into cases (or quarantine it), then hand its notices to the outbox."""
    with session_scope() as session:
        result, notice_ids = process_locked(session, inbound_id)
    for notice_id in notice_ids:
        deliver_notice.delay(notice_id)
    return result.as_dict()


def enqueue(inbound_id: int) -> bool:
    """Queue a stored message for processing; False when the broker cannot be reached. The message is safe in
    the database either way, and `requeue_stored` queues it once the broker is back."""
    try:
        process_inbound.delay(inbound_id)
    except BROKER_DOWN as exc:
        log.warning("broker unavailable, inbound %s stays stored for requeue_stored: %s", inbound_id, exc)
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
    for inbound_id in ids:
        process_inbound.delay(inbound_id)
    return len(ids)
