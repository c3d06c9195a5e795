"""The Celery application and its tasks: `celery -A tasks worker -B -Q intake,notices,reminders`."""

from tasks.app import app

__all__ = ["app"]
