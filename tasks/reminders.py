"""The periodic sweep (Celery beat, every `reminder_sweep_seconds`): deadline reminders, daily digests and the
identity-check clock. Each reminder goes once per case, kind, recipient and day, however many beats run.

The beat task only plans: it finds today's missing reminders (cheap, indexed) and hands them to the workers in
chunks (`remind`), so a day with thousands due never holds up the scheduler. Time comes from
`clock_from_settings()`, so a test can run real beat and worker processes on simulated time.
"""

from sqlalchemy.exc import OperationalError

from dsar import reminders, verification
from dsar.clock import clock_from_settings
from dsar.db import session_scope
from dsar.settings import get_settings
from tasks.app import app
from tasks.notices import queue_delivery


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=120, max_retries=5)
def sweep() -> int:
    clock = clock_from_settings()
    with session_scope() as session:
        planned = reminders.plan(session, clock=clock)
        queued = verification.sweep(session, clock=clock) + reminders.digest(session, clock=clock)
    size = max(get_settings().reminder_chunk_size, 1)
    for i in range(0, len(planned), size):
        remind.delay([item.as_list() for item in planned[i:i + size]])
    queue_delivery(queued)
    return len(planned)


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=120, max_retries=10)
def remind(items: list[list]) -> int:
    """Create a chunk of planned reminders (idempotent: each has its unique key) and queue their delivery."""
    with session_scope() as session:
        ids = reminders.send_all(session, [reminders.Reminder.from_list(i) for i in items],
                                 clock=clock_from_settings())
    queue_delivery(ids)
    return len(ids)
