"""The periodic audit anchor (Celery beat): a signed checkpoint of every chain head, appended to the anchor log.

Beat fires often (at most every 15 minutes) and the task writes only when the last anchor is older than
`anchor_interval_seconds`, so a beat restarted more often than the interval (its schedule file lost) still
anchors on time, and two beats never anchor twice in one interval.
"""

from datetime import timedelta

from sqlalchemy.exc import OperationalError

from dsar import audit_anchors
from dsar.clock import clock_from_settings
from dsar.db import session_scope
from dsar.settings import get_settings
from tasks.app import app


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=10)
def anchor() -> int | None:
    """The new anchor's number, or None when the last one is recent enough."""
    every = timedelta(seconds=get_settings().anchor_interval_seconds)
    with session_scope() as session:
        written = audit_anchors.write_if_due(session, clock=clock_from_settings(), every=every)
    return written.n if written else None
