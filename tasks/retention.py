"""The retention purge (Celery beat, daily): personal data of cases closed past `retention_days` is wiped.

Idempotent: a purged case or message is never purged twice, and each batch is its own transaction.
"""

from sqlalchemy.exc import OperationalError

from dsar import retention
from dsar.clock import clock_from_settings
from tasks.app import app


@app.task(autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def purge() -> dict:
    report = retention.run(clock=clock_from_settings())
    return {"cases": len(report.cases), "messages": len(report.messages)}
