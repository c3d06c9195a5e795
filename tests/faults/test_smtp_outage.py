"""The SMTP server down while requests come in: cases open as usual, each acknowledgement waits in the outbox as
`failed` with the reason where staff see it (and is retried with backoff), and once the server is back the
outbox sweep and the retries send each one exactly once."""

from __future__ import annotations

import time

import pytest
from sqlmodel import col, select

from dsar.db import session_scope
from dsar.models import Notice
from tests.faults.harness import Stack, burst, recover

pytestmark = pytest.mark.faults
BURST = 50


def _acknowledgements() -> list[Notice]:
    with session_scope() as s:
        return list(s.exec(select(Notice).where(Notice.kind == "acknowledgement").order_by(col(Notice.id))))


def test_notices_wait_in_the_outbox_while_smtp_is_down_and_go_out_once_when_it_returns(stack: Stack) -> None:
    stack.smtp.stop()
    stack.workers.start()
    mails = burst("smtp", BURST)
    started = time.monotonic()
    assert [r.status_code for r in stack.webhook.post_all(list(mails.values()))] == [202] * BURST

    deadline = time.monotonic() + 120
    while True:  # every acknowledgement has been tried at least once and is waiting, with the reason
        waiting = _acknowledgements()
        if len(waiting) == BURST and all(n.status == "failed" for n in waiting):
            break
        assert time.monotonic() < deadline, {n.status for n in waiting}
        time.sleep(0.2)
    assert all("SMTP" in (n.last_error or "") and "전송 실패" in (n.last_error or "") for n in waiting)
    assert stack.smtp.received == []

    stack.smtp.start()
    counts = recover(list(mails), stack.smtp, timeout=120)
    time.sleep(2)  # retries still scheduled from the outage fire now: none may send a second copy
    attempts = sum(n.attempts for n in _acknowledgements())
    counts.extra = {"attempts": attempts, "total_s": round(time.monotonic() - started)}
    print("\n" + counts.line("smtp-outage"))
    assert counts.lost == 0 and counts.duplicates == 0 and counts.unsent == 0, counts.states
    assert counts.cases == counts.sent == len(stack.smtp.received) == BURST  # each exactly once, no redelivery
    assert attempts > BURST  # they were tried while the server was down, then sent
    assert all(n.last_error is None and n.sent_at is not None for n in _acknowledgements())
