"""The bar test: real `celery beat` processes and a real worker on Redis, over simulated days.

The processes read "now" from a clock file (DSAR_CLOCK_FILE) that the test rewrites day by day across two
cases' lives; beat fires the sweep every fraction of a second of real time. Every mail that reaches the loopback
SMTP server is counted: each reminder (D-3, D-1, the due day to assignee and officer, the overdue escalation on
each day), each daily digest, the requester's identity-check reminder and the closure notice arrive exactly
once on their day, with two beats running at once.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import col, select

from dsar import verification
from dsar.calendar_kr import KST
from dsar.clock import FixedClock, write_clock_file
from dsar.db import session_scope
from dsar.models import Notice, Request
from dsar.settings import get_settings
from tests.conftest import ROOT, free_port
from tests.test_assignment import open_case

SWEEP_SECONDS = 0.3
SETTLE_SECONDS = 8 * SWEEP_SECONDS  # after a day's mail is in: long enough for many more sweeps to double it
START = datetime(2026, 11, 23, 10, 1, tzinfo=KST)  # Monday; both cases due Thursday 2026-12-03
DESK, BOSS = "desk@testorg.example", "officer@testorg.example"
LATE = "late@example.com"  # the requester who never proves who they are


@pytest.fixture
def clock_file(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Simulated time for every process started after this fixture (the worker and the beats inherit it)."""
    path = tmp_path / "now.txt"
    write_clock_file(path, START)
    for name, value in {"DSAR_CLOCK_FILE": str(path), "DSAR_REMINDER_SWEEP_SECONDS": str(SWEEP_SECONDS),
                        "DSAR_VERIFICATION_REMIND_AFTER_DAYS": "2", "DSAR_VERIFICATION_CLOSE_AFTER_DAYS": "5",
                        "DSAR_DIGEST_HOUR": "8"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return path


def start_beats(count: int, tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    env = dict(os.environ, DSAR_CELERY_EAGER="0")
    procs = []
    for i in range(count):
        with (tmp_path / f"beat{i}.log").open("wb") as log:  # the child keeps its own descriptor
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tasks", "beat", "-s", str(tmp_path / f"beat{i}-schedule"),
                 "--max-interval", "1", "-l", "INFO"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            ))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # each beat has sent at least one sweep
        if all(b"tasks.reminders.sweep" in (tmp_path / f"beat{i}.log").read_bytes() for i in range(count)):
            return procs
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError((tmp_path / "beat0.log").read_text())
        time.sleep(0.1)
    raise RuntimeError("celery beat did not start: " + (tmp_path / "beat0.log").read_text())


def label(message: EmailMessage) -> tuple[str, str, str]:
    """(recipient, what, which case) of one mail."""
    subject = str(message["Subject"])
    number = re.search(r"DSAR-\d{4}-\d{6}", subject)
    for prefix, what in (("[DSAR 일일 현황]", "digest"), ("[DSAR 기한 알림]", "reminder"),
                         ("[DSAR 기한 경과]", "overdue")):
        if subject.startswith(prefix):
            return str(message["To"]), what, number.group(0) if number else ""
    what = "verify-reminder" if "자료 제출 요청" in subject else "unverified-closure" if "종결" in subject else subject
    return str(message["To"]), what, number.group(0) if number else ""


def expected_mail(day: date, a: str, b: str) -> Counter[tuple[str, str, str]]:
    mail: Counter[tuple[str, str, str]] = Counter({(BOSS, "digest", ""): 1, (DESK, "digest", ""): 1})
    extra = {
        date(2026, 11, 25): [(LATE, "verify-reminder", b)],
        date(2026, 11, 28): [(LATE, "unverified-closure", b)],
        date(2026, 11, 30): [(DESK, "reminder", a)],
        date(2026, 12, 2): [(DESK, "reminder", a)],
        date(2026, 12, 3): [(DESK, "reminder", a), (BOSS, "reminder", a)],
        date(2026, 12, 4): [(BOSS, "overdue", a)],
        date(2026, 12, 5): [(BOSS, "overdue", a)],
    }
    mail.update(extra.get(day, []))
    return mail


def _is_closed(case_id: int) -> bool:
    with session_scope() as s:
        case = s.get(Request, case_id, populate_existing=True)
        return bool(case and case.closed)


def test_processes_read_simulated_time_from_the_clock_file_only_when_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import ValidationError

    from dsar.clock import FileClock, SystemClock, clock_from_settings
    from dsar.errors import InvalidInput, ServiceUnavailable

    monkeypatch.delenv("DSAR_CLOCK_FILE", raising=False)
    get_settings.cache_clear()
    assert isinstance(clock_from_settings(), SystemClock)
    path = tmp_path / "now.txt"
    monkeypatch.setenv("DSAR_CLOCK_FILE", str(path))
    get_settings.cache_clear()
    clock = clock_from_settings()
    assert isinstance(clock, FileClock)
    with pytest.raises(ServiceUnavailable, match="cannot be read"):
        clock.now()
    write_clock_file(path, START)
    assert clock.now() == START.astimezone(UTC) and clock.now().tzinfo is UTC
    write_clock_file(path, START + timedelta(days=3))  # another process moves time: the next call sees it
    assert clock.now() == (START + timedelta(days=3)).astimezone(UTC)
    path.write_text("next tuesday", encoding="utf-8")
    with pytest.raises(InvalidInput, match="ISO-8601"):
        clock.now()
    monkeypatch.setenv("DSAR_ENV", "production")
    monkeypatch.setenv("DSAR_SECRET_KEY", "a-long-random-production-secret")
    get_settings.cache_clear()
    with pytest.raises(ValidationError, match="DSAR_CLOCK_FILE"):
        get_settings()
    get_settings.cache_clear()


def test_every_reminder_arrives_exactly_once_from_real_beat_and_worker(
    db: str, testorg: int, smtp_server, clock_file: Path, celery_worker_process,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    opened = FixedClock(START.astimezone(UTC))
    a = open_case(testorg, clock=opened, requester_email="minji@example.com")
    b = open_case(testorg, clock=opened, requester_email=LATE)
    with session_scope() as s:
        verification.start(s, s.get(Request, b), actor="desk", clock=opened)  # type: ignore[arg-type]
        for ack in s.exec(select(Notice).where(col(Notice.kind) == "acknowledgement")):
            ack.status = "sent"  # the 접수 확인 mails are not this test's subject
            s.add(ack)
        numbers = {i: s.get(Request, i).number for i in (a, b)}  # type: ignore[union-attr]

    procs = start_beats(2, tmp_path)  # two beats at once: the harder case (one beat is the same minus a race)
    try:
        seen = 0
        day = START.date()
        while day <= date(2026, 12, 5):
            write_clock_file(clock_file, START + timedelta(days=(day - START.date()).days))
            want = expected_mail(day, numbers[a], numbers[b])
            mail = smtp_server.wait_for(seen + sum(want.values()), timeout=60)
            time.sleep(SETTLE_SECONDS)
            if day == date(2026, 11, 28):  # the closure notice went out: a later sweep closes the case
                deadline = time.monotonic() + 30
                while not _is_closed(b) and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert _is_closed(b), "the unverified case should close once its notice is sent"
            mail = list(smtp_server.messages)
            got = Counter(label(m) for m in mail[seen:])
            assert got == want, f"{day}: expected {dict(want)}, got {dict(got)}"
            seen = len(mail)
            day += timedelta(days=1)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=20)

    with session_scope() as s:
        notices = list(s.exec(select(Notice).where(col(Notice.kind) != "acknowledgement")))
    assert all(n.status == "sent" for n in notices), [(n.kind, n.status) for n in notices if n.status != "sent"]
    assert len(notices) == seen


class HoldingSmtp:
    """A real SMTP server on loopback that takes the first message and then holds back its "250 OK" until
    released: the sending worker is stuck exactly between handing the mail over and recording it as sent."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[EmailMessage] = []
        self.release = threading.Event()
        box = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
                box.messages.append(message_from_bytes(envelope.original_content or envelope.content,
                                                       policy=policy.default))  # type: ignore[arg-type]
                while len(box.messages) == 1 and not box.release.is_set():
                    await asyncio.sleep(0.05)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"expected {count} mails, got {len(self.messages)}"


def start_worker(tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DSAR_CELERY_EAGER="0")
    with (tmp_path / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", "intake,notices,reminders", "-n",
             f"{name}@%h", "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle",
             "-l", "INFO"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while b"ready" not in (tmp_path / f"{name}.log").read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((tmp_path / f"{name}.log").read_text())
        time.sleep(0.1)
    return proc


def test_a_reminder_a_killed_worker_left_claimed_waits_for_its_lease_then_goes_once_more(
    db: str, testorg: int, clock_file: Path, redis_db, tmp_path: Path,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp = HoldingSmtp()
    smtp.controller.start()
    monkeypatch.setenv("DSAR_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("DSAR_DIGEST_HOUR", "24")  # no digests: only the reminders of this case
    get_settings.cache_clear()
    d3 = datetime(2026, 11, 30, 10, 1, tzinfo=KST)
    case_id = open_case(testorg, clock=FixedClock(START.astimezone(UTC)))
    with session_scope() as s:
        for ack in s.exec(select(Notice).where(col(Notice.kind) == "acknowledgement")):
            ack.status = "sent"
            s.add(ack)
    write_clock_file(clock_file, d3)
    procs = [start_worker(tmp_path, "first")]
    try:
        procs += start_beats(1, tmp_path)
        smtp.wait_for(1)  # the D-3 reminder is on the server; the worker waits for the server's answer
        procs[0].kill()  # SIGKILL: no clean-up, no "sent" recorded
        procs[0].wait(timeout=20)
        smtp.release.set()
        procs.append(start_worker(tmp_path, "second"))
        with session_scope() as s:
            stuck = s.exec(select(Notice).where(Notice.kind == "reminder")).one()
        assert stuck.status == "sending" and stuck.dedupe_key == f"reminder:2026-11-30:{case_id}:assignee"
        from tasks.app import app
        from tasks.notices import deliver_notices, sweep_outbox

        app.conf.task_always_eager = False  # send these to the broker, for the real worker
        try:
            deliver_notices.delay([stuck.id])  # what a broker redelivering the killed worker's task would do
            sweep_outbox.delay(older_than_seconds=0)
        finally:
            app.conf.task_always_eager = True
        time.sleep(SETTLE_SECONDS * 2)  # many sweeps on the same simulated day
        assert len(smtp.messages) == 1
        write_clock_file(clock_file, d3 + timedelta(days=2))  # D-1: the new worker sends that one normally,
        app.conf.task_always_eager = False  # and the stuck claim's lease has long lapsed: the sweep resends it
        try:
            sweep_outbox.delay(older_than_seconds=0)
        finally:
            app.conf.task_always_eager = True
        smtp.wait_for(3)
        time.sleep(SETTLE_SECONDS)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=20)
        smtp.controller.stop()
    assert [label(m)[:2] for m in smtp.messages] == [(DESK, "reminder")] * 3
    d3_ids = [m["Message-ID"] for m in smtp.messages if "D-3" in str(m["Subject"])]
    assert len(d3_ids) == 2 and d3_ids[0] == d3_ids[1]  # resent once, as the same message (receivers drop the copy)
    with session_scope() as s:
        statuses = [n.status for n in s.exec(select(Notice).where(Notice.kind == "reminder").order_by(col(Notice.id)))]
    assert statuses == ["sent", "sent"]
