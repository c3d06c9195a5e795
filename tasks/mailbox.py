"""Mailbox polling (Celery beat, every `DSAR_POLL_SECONDS`): take new mail from the Maildir and/or IMAP folder,
then queue each stored message for processing. One poll at a time across all workers (a Redis lock)."""

import logging

import redis
from redis.exceptions import LockError

from dsar.clock import SystemClock
from dsar.errors import ServiceUnavailable
from dsar.intake import mailbox
from dsar.settings import get_settings
from tasks.app import app
from tasks.intake import enqueue

log = logging.getLogger(__name__)


@app.task
def poll() -> dict[str, int]:
    """Counts of messages taken from each configured mailbox (-1: that mailbox could not be read this time)."""
    settings = get_settings()
    if not settings.maildir_path and not settings.imap_host:
        return {}
    client = redis.Redis.from_url(settings.broker_url)
    lock = client.lock("dsar:mailbox:poll", timeout=max(300, int(settings.poll_seconds * 5)), blocking=False)
    if not lock.acquire():
        return {"skipped": 1}  # the previous poll is still running
    counts: dict[str, int] = {}
    try:
        clock = SystemClock()
        sources = []
        if settings.maildir_path:
            sources.append(("maildir", lambda: mailbox.poll_maildir(settings.maildir_path, clock=clock)))
        if settings.imap_host:
            account = mailbox.ImapAccount.from_settings(settings)
            sources.append(("imap", lambda: mailbox.poll_imap(account, clock=clock,
                                                              state=mailbox.RedisUidState(client))))
        for name, take in sources:
            try:
                taken = take()
            except ServiceUnavailable as exc:
                log.warning("mailbox %s not polled: %s", name, exc.message)
                counts[name] = -1
                continue
            stored = [item.inbound_id for item in taken if item.status == "stored"]
            for i in range(0, len(stored), settings.intake_batch_size):
                enqueue(stored[i:i + settings.intake_batch_size])
            counts[name] = sum(1 for t in taken if t.created)
    finally:
        try:
            lock.release()
        except LockError:
            pass  # expired meanwhile: the next poll takes it over
        client.close()
    return counts
