"""Workers SIGKILLed at random moments while a burst of 1,000 requests comes in through the webhook: every
message still ends as exactly one case, and every case's acknowledgement reaches the SMTP server exactly once
(counted by Message-ID). The kill marks come from a random seed printed on the counts line; DSAR_FAULT_SEED=<seed>
draws the same marks again."""

from __future__ import annotations

import os
import random
import threading
import time

import pytest

from tests.faults.harness import Stack, burst, processed, recover

BURST = 1000
WORKERS = 2
KILLS = 12

pytestmark = pytest.mark.faults


def test_workers_killed_at_random_moments_lose_and_double_nothing(stack: Stack) -> None:
    seed = int(os.environ.get("DSAR_FAULT_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    for _ in range(WORKERS):
        stack.workers.start()
    mails = burst("kill", BURST)
    answers: list[int] = []

    def post_burst() -> None:
        answers.extend(r.status_code for r in stack.webhook.post_all(list(mails.values())))

    poster = threading.Thread(target=post_burst)
    started = time.monotonic()
    poster.start()
    # Kill when the number of messages processed passes random marks (so the kills spread over the whole burst
    # however fast the machine is), each after a random fraction of a second (so they land anywhere in a task).
    marks = sorted(rng.sample(range(BURST // 50, BURST - BURST // 10), KILLS))
    kills = 0
    while marks and time.monotonic() - started < 240:
        if processed(list(mails)) >= marks[0]:
            time.sleep(rng.uniform(0, 0.3))
            if stack.workers.kill_one(rng):  # none is ready while both restart: the mark waits
                marks.pop(0)
                kills += 1
        time.sleep(0.1)
    poster.join()
    burst_s = round(time.monotonic() - started)
    counts = recover(list(mails), stack.smtp, timeout=120)
    counts.extra = {"kills": kills, "seed": seed, "burst_s": burst_s, "total_s": round(time.monotonic() - started)}
    print("\n" + counts.line("worker-kill"))
    assert answers == [202] * BURST
    assert kills == KILLS, "the workers were not killed as often as planned"
    assert counts.lost == 0 and counts.duplicates == 0 and counts.unsent == 0, counts.states
    assert counts.cases == counts.sent == BURST
    # A worker killed after the server took the mail but before it recorded "sent" leaves the notice claimed: it
    # goes out again after the lease with the same Message-ID. One task at a time per worker: one per kill at most.
    assert counts.redelivered <= kills
