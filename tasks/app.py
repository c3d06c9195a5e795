"""Celery configuration. Queues are named by concern so that each can get its own workers:

- `intake`: turning stored messages into cases (bursty after a breach);
- `notices`: delivering the outbox (acknowledgements, letters, staff e-mail);
- `reminders`: the periodic sweeps (deadline reminders and digests, identity-check expiry, outbox recovery,
  audit anchors, the retention purge).
"""

from celery import Celery
from celery.schedules import crontab
from celery.signals import after_setup_logger, after_setup_task_logger

from dsar import logs
from dsar.settings import get_settings

settings = get_settings()

app = Celery("dsar", broker=settings.broker_url, include=["tasks.intake", "tasks.notices", "tasks.reminders",
                                                           "tasks.mailbox", "tasks.audit", "tasks.retention"])
app.conf.update(
    task_always_eager=settings.celery_eager,
    task_eager_propagates=True,
    task_ignore_result=True,
    result_backend=settings.result_backend or None,
    task_acks_late=True,  # a task whose worker dies is delivered again; every task is idempotent
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue="intake",
    task_routes={
        "tasks.intake.*": {"queue": "intake"},
        "tasks.mailbox.*": {"queue": "intake"},
        "tasks.notices.*": {"queue": "notices"},
        "tasks.reminders.*": {"queue": "reminders"},
        "tasks.audit.*": {"queue": "reminders"},
        "tasks.retention.*": {"queue": "reminders"},
    },
    broker_connection_retry_on_startup=True,
    timezone="Asia/Seoul",
    beat_schedule={
        "deadline-reminders": {"task": "tasks.reminders.sweep", "schedule": settings.reminder_sweep_seconds},
        "outbox-recovery": {"task": "tasks.notices.sweep_outbox", "schedule": 60.0},
        "mailbox-poll": {"task": "tasks.mailbox.poll", "schedule": settings.poll_seconds},
        "intake-requeue": {"task": "tasks.intake.requeue_stored", "schedule": 60.0},
        "audit-anchor": {"task": "tasks.audit.anchor", "schedule": min(settings.anchor_interval_seconds, 900.0)},
        "retention-purge": {"task": "tasks.retention.purge", "schedule": crontab(hour=3, minute=30)},  # daily, KST
    },
)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _guard_worker_logs(logger, **_kwargs) -> None:  # type: ignore[no-untyped-def]
    """The worker's and its tasks' log lines: masked, and JSON like every other process's (dsar.logs)."""
    logs.guard_logger(logger)
