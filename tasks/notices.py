"""Outbox tasks: deliver one notice (retried with backoff), and re-queue what was left behind, including what a
worker that died mid-send left claimed (`dsar.notices.LEASE`)."""

from datetime import timedelta

from sqlalchemy.exc import OperationalError

from dsar import notices
from dsar.clock import clock_from_settings
from dsar.db import session_scope
from dsar.mail import DeliveryFailed, default_transport
from tasks.app import app


@app.task(autoretry_for=(DeliveryFailed, OperationalError), retry_backoff=True, retry_backoff_max=600,
          max_retries=12)
def deliver_notice(notice_id: int, lease_seconds: float | None = None) -> str:
    lease = notices.LEASE if lease_seconds is None else timedelta(seconds=lease_seconds)
    with session_scope() as session:
        notice = notices.deliver(session, notice_id, default_transport(), clock=clock_from_settings(), lease=lease)
        return notice.status if notice else "missing"


@app.task
def sweep_outbox(older_than_seconds: int = 120, lease_seconds: float | None = None) -> int:
    """Queue again the notices still waiting (a lost message, a broker that was down when they were made), and
    those a worker claimed more than the lease ago and never finished (it died mid-send)."""
    now = clock_from_settings().now()
    lease = notices.LEASE if lease_seconds is None else timedelta(seconds=lease_seconds)
    with session_scope() as session:
        ids = notices.pending_ids(session, created_before=now - timedelta(seconds=older_than_seconds),
                                  lapsed_before=now - lease)
    for notice_id in ids:
        deliver_notice.delay(notice_id, lease_seconds=lease_seconds)
    return len(ids)
