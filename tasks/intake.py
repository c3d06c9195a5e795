"""Intake tasks: ids in, a call into the core, idempotent."""

from sqlalchemy.exc import OperationalError

from dsar.clock import SystemClock
from dsar.db import session_scope
from dsar.intake import service
from tasks.app import app
from tasks.notices import deliver_notice


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=20)
def process_inbound(inbound_id: int) -> dict:
    """Turn one stored message into cases (or quarantine it), then hand its notices to the outbox."""
    with session_scope() as session:
        result = service.process(session, inbound_id, clock=SystemClock())
        notice_ids = service.queued_notices(session, inbound_id)
    for notice_id in notice_ids:
        deliver_notice.delay(notice_id)
    return result.as_dict()
