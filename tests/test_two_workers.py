"""Scale-out: two real Celery worker processes consuming different queues, as on two machines, against one
PostgreSQL and one Redis. One takes `intake` (stored messages → cases and their 접수 확인), the other `notices`
(delivery over SMTP to a real server on loopback). The work is shared between them and nothing is done twice.

PostgreSQL only: several worker processes writing at once is what a deployment on several machines runs on.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlmodel import col, select

from dsar.clock import SystemClock
from dsar.db import session_scope
from dsar.intake import service
from dsar.models import InboundMessage, Notice, Request
from tests.conftest import ROOT
from tests.intake_channels.helpers import message

N, BATCH = 200, 10
SUCCEEDED = re.compile(r"Task (tasks\.\w+\.\w+)\[[0-9a-f-]+\] succeeded")


@contextmanager
def worker(queue: str, logs: Path) -> Iterator[Path]:
    """A real worker process consuming only `queue`; yields its log file."""
    log_path = logs / f"{queue}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", queue, "-n", f"{queue}@%h",
             "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env=dict(os.environ, DSAR_CELERY_EAGER="0"), stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while b"ready" not in log_path.read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log_path.read_text())
            time.sleep(0.1)
        yield log_path
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def tasks_done(log_path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in SUCCEEDED.findall(log_path.read_text()):
        counts[name] = counts.get(name, 0) + 1
    return counts


def store_and_queue(count: int) -> None:
    """What the webhook does: store the messages, then queue their processing in batches."""
    from tasks.intake import enqueue

    for start in range(0, count, BATCH):
        raws = [(message(sender=f"요청자 <requester{i:03d}@example.com>", message_id=f"<two-workers-{i}@example.com>"),
                 "webhook") for i in range(start, min(count, start + BATCH))]
        with session_scope() as session:
            ids = [row.id or 0 for row, created in service.store_many(session, raws, clock=SystemClock()) if created]
        assert len(ids) == len(raws) and enqueue(ids)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_two_workers_on_different_queues_share_the_work_and_do_nothing_twice(
    db: str, smtp_server, testorg: int, redis_db: object, not_eager: None, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    with worker("intake", tmp_path) as intake_log, worker("notices", tmp_path) as notices_log:
        store_and_queue(N)
        smtp_server.wait_for(N, timeout=60)
        time.sleep(1.0)  # anything sent twice would arrive now
    mail = list(smtp_server.messages)

    assert len(mail) == N
    assert len({m["To"] for m in mail}) == N
    with session_scope() as session:
        inbound = list(session.exec(select(InboundMessage)))
        cases = list(session.exec(select(Request).order_by(col(Request.id))))
        acks = list(session.exec(select(Notice).where(Notice.kind == "acknowledgement")))
    assert len(inbound) == N and {m.status for m in inbound} == {"processed"}
    assert sorted(c.inbound_id for c in cases) == sorted(m.id for m in inbound)  # exactly one case per message
    assert sorted(a.request_id for a in acks) == sorted(c.id for c in cases)  # exactly one 접수 확인 per case
    assert {(a.status, a.attempts) for a in acks} == {("sent", 1)}
    mailed = sorted(re.search(r"DSAR-\d{4}-\d{6}", str(m["Subject"])).group(0) for m in mail)  # type: ignore[union-attr]
    assert mailed == sorted(c.number for c in cases)

    by_intake, by_notices = tasks_done(intake_log), tasks_done(notices_log)
    assert by_intake == {"tasks.intake.process_inbound": N // BATCH}  # the intake worker only took intake
    assert set(by_notices) == {"tasks.notices.deliver_notices"} and by_notices["tasks.notices.deliver_notices"] > 0
