"""Outbox tasks: deliver notices in batches (failures retried with backoff), and re-queue what was left behind,
including what a worker that died mid-send left claimed (`dsar.notices.LEASE`)."""

from datetime import timedelta

from celery.utils.time import get_exponential_backoff_interval
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from dsar import notices
from dsar.clock import clock_from_settings
from dsar.db import get_engine, session_scope
from dsar.mail import DeliveryFailed, default_transport
from dsar.settings import get_settings
from tasks.app import app


@app.task(bind=True, autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=12)
def deliver_notices(self, notice_ids: list[int] | int, lease_seconds: float | None = None) -> int:  # type: ignore[no-untyped-def]
    """Send the notices over one connection; those that failed are tried again later, alone in their retry
    (after the last retry they stay `failed`, visible on their case, and `sweep_outbox` picks them up).
    A single id is what tasks queued by earlier versions carry."""
    ids = [notice_ids] if isinstance(notice_ids, int) else list(notice_ids)
    lease = notices.LEASE if lease_seconds is None else timedelta(seconds=lease_seconds)
    # one connection for the batch: delivery commits once per message, and would otherwise give the connection
    # back to the pool and take it again each time
    with get_engine().connect() as conn, Session(bind=conn, expire_on_commit=False) as session:
        tried = notices.deliver_many(session, ids, default_transport(), clock=clock_from_settings(), lease=lease)
        failed = [(n.id, n.last_error) for n in tried if n.status == "failed"]
    if failed:
        countdown = get_exponential_backoff_interval(1, self.request.retries, 600, full_jitter=True)
        raise self.retry(args=[[i for i, _ in failed]], kwargs={"lease_seconds": lease_seconds},
                         countdown=countdown, exc=DeliveryFailed(failed[0][1] or ""))
    return len(tried)


def queue_delivery(notice_ids: list[int], *, lease_seconds: float | None = None) -> None:
    """Hand notices to the outbox workers in batches."""
    batch = get_settings().intake_batch_size
    for i in range(0, len(notice_ids), batch):
        deliver_notices.delay(notice_ids[i:i + batch], lease_seconds=lease_seconds)


@app.task
def sweep_outbox(older_than_seconds: int = 120, lease_seconds: float | None = None) -> int:
    """Queue again the notices still waiting (a lost message, a broker that was down when they were made), and
    those a worker claimed more than the lease ago and never finished (it died mid-send)."""
    now = clock_from_settings().now()
    lease = notices.LEASE if lease_seconds is None else timedelta(seconds=lease_seconds)
    with session_scope() as session:
        ids = notices.pending_ids(session, created_before=now - timedelta(seconds=older_than_seconds),
                                  lapsed_before=now - lease)
    queue_delivery(ids, lease_seconds=lease_seconds)
    return len(ids)
