"""PostgreSQL crashed (immediate stop: no checkpoint, recovery at start) while the workers are processing a
burst, then started again: the tasks that failed retry with backoff and finish; the webhook answers 503 with
Retry-After while the database is away (never a 500) and takes the message once it is back; every message ends
as one case with one acknowledgement."""

from __future__ import annotations

import time

import pytest

from tests.faults.harness import Stack, burst, processed, recover
from tests.intake_channels.helpers import message

pytestmark = pytest.mark.faults
BURST = 200
CRASH_AT = 60  # messages processed when the database goes down
DOWN_SECONDS = 3.0


def _wait_for_processed(mails: list[str], at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while processed(mails) < at_least:
        assert time.monotonic() < deadline, f"fewer than {at_least} messages processed in {timeout} s"
        time.sleep(0.1)


def test_a_postgres_crash_during_processing_is_retried_to_the_end(stack: Stack) -> None:
    mails = burst("pg", BURST)
    late_id = "<pg-while-down@example.com>"
    late = message(message_id=late_id, sender="늦은 요청자 <late.pg@example.com>")
    started = time.monotonic()
    answers = stack.webhook.post_all(list(mails.values()))
    assert [r.status_code for r in answers] == [202] * BURST
    for _ in range(2):
        stack.workers.start(wait=False)
    _wait_for_processed(list(mails), CRASH_AT, timeout=180)

    stack.pg.stop("immediate")
    refused = stack.webhook.post(late)
    time.sleep(DOWN_SECONDS)
    stack.pg.start()
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "30"
    assert refused.json()["error"]["code"] == "service_unavailable"
    assert stack.webhook.post(late).status_code == 202  # the mail system sends it again later
    mails[late_id] = late

    deadline = time.monotonic() + 120  # first without the beat: the retries alone must finish the processing
    while processed(list(mails)) < len(mails) and time.monotonic() < deadline:
        time.sleep(0.2)
    by_retries = processed(list(mails))
    counts = recover(list(mails), stack.smtp, timeout=60)
    retries = stack.workers.log_text().count("Retry in")
    counts.extra = {"retries": retries, "processed_by_retries": by_retries,
                    "total_s": round(time.monotonic() - started)}
    print("\n" + counts.line("postgres-restart"))
    assert retries > 0, "no task failed and retried: the crash did not hit the processing"
    assert by_retries == len(mails), "retrying tasks did not finish the intake on their own"
    assert counts.lost == 0 and counts.duplicates == 0 and counts.unsent == 0, counts.states
    assert counts.cases == counts.sent == len(mails)
    assert counts.redelivered <= 2  # at most the one notice each worker was handing over when the database died
