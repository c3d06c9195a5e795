"""The periodic deadline sweep (Celery beat, every few minutes; each reminder goes once per case and day)."""

from dsar import reminders
from dsar.clock import SystemClock
from dsar.db import session_scope
from tasks.app import app
from tasks.notices import deliver_notice


@app.task
def sweep() -> int:
    with session_scope() as session:
        ids = reminders.sweep(session, clock=SystemClock())
    for notice_id in ids:
        deliver_notice.delay(notice_id)
    return len(ids)
