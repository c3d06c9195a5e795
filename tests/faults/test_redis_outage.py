"""Redis (the broker) stopped in the middle of an intake burst and started again empty: the webhook answers 202
throughout (each message is committed to the database before the answer), and once Redis is back the beat's
`requeue_stored` queues what the broker lost or never got; every message ends as one case with one
acknowledgement."""

from __future__ import annotations

import threading
import time

import pytest

from tests.faults.harness import Stack, burst, recover

pytestmark = pytest.mark.faults
BURST = 200
OUTAGE_AFTER = 40  # answers before Redis goes down
OUTAGE_SECONDS = 5.0


def test_webhook_keeps_accepting_while_redis_is_down_and_nothing_is_lost_or_doubled(stack: Stack) -> None:
    for _ in range(2):
        stack.workers.start()
    mails = burst("redis", BURST)
    down = threading.Event()
    during_outage: list[int] = []

    def each(n: int) -> None:  # runs after each answer; the n-th one takes Redis down for a while
        if down.is_set():
            during_outage.append(n)
        if n == OUTAGE_AFTER:
            stack.redis.stop()
            down.set()
            threading.Timer(OUTAGE_SECONDS, back).start()

    def back() -> None:
        stack.redis.start()
        down.clear()

    started = time.monotonic()
    answers = stack.webhook.post_all(list(mails.values()), each=each)
    while down.is_set():  # the burst may end before the outage does
        time.sleep(0.1)
    counts = recover(list(mails), stack.smtp, timeout=120)
    counts.extra = {"answered_while_down": len(during_outage), "total_s": round(time.monotonic() - started)}
    print("\n" + counts.line("redis-outage"))
    assert [r.status_code for r in answers] == [202] * BURST
    assert all(r.json()["created"] for r in answers)
    assert len(during_outage) >= 10, "too few messages came in while Redis was down to prove anything"
    assert counts.lost == 0 and counts.duplicates == 0 and counts.unsent == 0, counts.states
    assert counts.cases == counts.sent == BURST and counts.redelivered == 0
