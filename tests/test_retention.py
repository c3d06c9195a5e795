"""Cases closed longer than the retention period lose their personal data (tombstones stay, the audit chain still
verifies); open, recent and shared data stays; the purge runs from the CLI and as the Celery beat task."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from dsar import audit, engine, retention
from dsar.auth.models import Note
from dsar.clock import FixedClock, write_clock_file
from dsar.db import session_scope
from dsar.intake import service
from dsar.models import AuditEvent, InboundMessage, Notice, Request, StageEvent
from dsar.settings import get_settings
from tests.cli import dsar_json

T0 = datetime(2022, 3, 2, 1, 0, tzinfo=UTC)  # 10:00 KST, a Wednesday
PURGE_AT = T0 + timedelta(days=1100)  # the default period is 1095 days
PERSONAL = ("홍길동", "hong@example.com", "kim@example.com", "lee@example.com", "010-9876-5432")


def _mail(n: int, sender: str, subject: str, body: str, at: datetime) -> bytes:
    return (f"From: {sender}\r\nTo: privacy@testorg.example\r\nSubject: {subject}\r\n"
            f"Date: {at.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\nMessage-ID: <m{n}@example.com>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n").encode()


def _ingest(raw: bytes, at: datetime) -> service.IntakeResult:
    with session_scope() as s:
        inbound, _ = service.store(s, raw, source="test", clock=FixedClock(at))
    with session_scope() as s:
        return service.process(s, inbound.id or 0, clock=FixedClock(at))


CLOSE = ("start_verification", "verify", "approve", "close")
WITH_A_PAUSE = ("start_verification", "verify", "request_supplement", "supplement_received", "approve", "close")


def _close(number: str, at: datetime, steps: tuple[str, ...] = CLOSE) -> None:
    for step in steps:
        with session_scope() as s:
            case = s.exec(select(Request).where(Request.number == number)).one()
            for notice in s.exec(select(Notice).where(Notice.request_id == case.id)):
                notice.status = "sent"
                s.add(notice)
            engine.advance(s, case, step, actor="staff", clock=FixedClock(at), reason="홍길동 님 확인")


def _case(number: str) -> Request:
    with session_scope() as s:
        return s.exec(select(Request).where(Request.number == number)).one()


@pytest.fixture
def history(testorg: int) -> dict[str, service.IntakeResult]:
    """Old closed, old open and recent closed cases; a reply, a newsletter, and a message shared by a closed and
    an open case."""
    old = _ingest(_mail(1, "홍길동 <hong@example.com>", "개인정보 열람 요청",
                        "홍길동입니다. 제 개인정보 열람을 요청합니다. 연락처 010-9876-5432", T0), T0)
    _close(old.request_id or "", T0 + timedelta(days=1), WITH_A_PAUSE)  # the reason lands in pauses, due_basis
    with session_scope() as s:
        s.add(Note(request_id=_case(old.request_id or "").id or 0, author="staff", body="홍길동 님과 통화함"))
    results = {
        "old": old,
        "reply": _ingest(_mail(2, "hong@example.com", f"Re: [{old.request_id}] 열람", "감사합니다 홍길동 드림",
                               T0 + timedelta(days=2)), T0 + timedelta(days=2)),
        "newsletter": _ingest(_mail(3, "news@shop.example", "이번 주 할인 소식", "광고 수신을 원하지 않으시면 ...",
                                    T0), T0),
        "open": _ingest(_mail(4, "kim@example.com", "개인정보 삭제 요청", "제 개인정보를 삭제해 주세요.", T0), T0),
        "shared": _ingest(_mail(5, "lee@example.com", "열람 및 삭제 요청",
                                "제 개인정보 열람과 삭제를 요청합니다.", T0), T0),
        "recent": _ingest(_mail(6, "park@example.com", "개인정보 열람 요청", "열람을 요청합니다.",
                                T0 + timedelta(days=1000)), T0 + timedelta(days=1000)),
    }
    assert results["newsletter"].status == "not_a_request" and results["reply"].thread_of == old.request_id
    assert len(results["shared"].cases) == 2
    _close(results["shared"].cases[0], T0 + timedelta(days=1))
    _close(results["recent"].request_id or "", T0 + timedelta(days=1001))
    return results


def test_a_dry_run_lists_what_is_due_and_changes_nothing(history: dict[str, service.IntakeResult]) -> None:
    report = retention.run(clock=FixedClock(PURGE_AT), dry_run=True)
    assert report.cases == [history["old"].request_id, history["shared"].cases[0]]
    assert report.messages == [history[k].inbound_id for k in ("old", "reply", "newsletter")]
    assert _case(history["old"].request_id or "").requester_name == "홍길동"
    assert retention.run(clock=FixedClock(PURGE_AT - timedelta(days=10)), dry_run=True).cases == []


def test_purge_wipes_personal_data_and_keeps_a_tombstone_and_a_verifying_audit_chain(
    history: dict[str, service.IntakeResult],
) -> None:
    old = _case(history["old"].request_id or "")
    report = retention.run(clock=FixedClock(PURGE_AT))
    assert report.cases == [history["old"].request_id, history["shared"].cases[0]]
    assert report.messages == [history[k].inbound_id for k in ("old", "reply", "newsletter")]

    tomb = _case(old.number or "")
    assert (tomb.requester_name, tomb.requester_email, tomb.requester_email_hmac, tomb.requester_phone) == \
        (None, None, None, None)
    assert (tomb.subject, tomb.details, tomb.purged_at) == ("", "", PURGE_AT)
    assert "홍길동" in json.dumps([old.pauses, old.due_basis], ensure_ascii=False)
    assert not any(p in json.dumps([tomb.pauses, tomb.extensions, tomb.due_basis], ensure_ascii=False)
                   for p in PERSONAL)
    assert tomb.pauses[0]["start"] == old.pauses[0]["start"] and tomb.due_basis["basis"]  # the arithmetic stays
    assert (tomb.number, tomb.org_id, tomb.right, tomb.stage, tomb.closed, tomb.received_at, tomb.due_date) == \
        (old.number, old.org_id, old.right, "closed", True, old.received_at, old.due_date)
    with session_scope() as s:
        notices = list(s.exec(select(Notice).where(Notice.request_id == old.id)))
        assert notices and all((n.subject, n.text, n.html, n.context, n.recipient) == ("", "", "", {}, None)
                               for n in notices)
        assert all(n.sha256 and n.kind for n in notices)  # what was sent stays provable by its hash
        assert [n.body for n in s.exec(select(Note).where(Note.request_id == old.id))] == [""]
        assert all(e.reason is None for e in s.exec(select(StageEvent).where(StageEvent.request_id == old.id)))
        for key in ("old", "reply", "newsletter"):
            message = s.get(InboundMessage, history[key].inbound_id)
            assert (message.raw, message.summary, message.purged_at) == (b"", {}, PURGE_AT) and message.sha256
        assert audit.verify(s).ok
        purged = list(s.exec(select(AuditEvent).where(col(AuditEvent.action).in_(["request.purged",
                                                                                   "inbound.purged"]))))
        assert sorted(e.action for e in purged) == ["inbound.purged"] * 3 + ["request.purged"] * 2
        assert not any(p in json.dumps(e.details, ensure_ascii=False) for e in purged for p in PERSONAL)


def test_open_recent_and_shared_data_is_kept(history: dict[str, service.IntakeResult]) -> None:
    retention.run(clock=FixedClock(PURGE_AT))
    kept = [history["open"].request_id, history["shared"].cases[1], history["recent"].request_id]
    assert all(_case(n or "").purged_at is None and _case(n or "").requester_email for n in kept)
    with session_scope() as s:
        for key in ("open", "shared", "recent"):  # a message stays while one of its cases does
            message = s.get(InboundMessage, history[key].inbound_id)
            assert message.purged_at is None and b"From:" in message.raw and message.summary["sender"]
    assert retention.run(clock=FixedClock(PURGE_AT)).cases == []  # nothing twice


def test_the_cli_and_the_beat_task_purge(
    history: dict[str, service.IntakeResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = tmp_path / "now.txt"
    write_clock_file(now, PURGE_AT)
    env = {"DSAR_DATABASE_URL": get_settings().resolved_database_url, "DSAR_CLOCK_FILE": str(now)}
    listed = dsar_json("retention", "purge", "--dry-run", env=env)
    assert listed["dry_run"] and listed["cases"] == [history["old"].request_id, history["shared"].cases[0]]
    assert _case(history["old"].request_id or "").purged_at is None

    from tasks.app import app
    from tasks.retention import purge

    assert app.conf.beat_schedule["retention-purge"]["task"] == "tasks.retention.purge"
    monkeypatch.setenv("DSAR_CLOCK_FILE", str(now))
    get_settings.cache_clear()
    assert purge.delay().get() == {"cases": 2, "messages": 3}
    assert _case(history["old"].request_id or "").purged_at == PURGE_AT
    # a shorter period reaches the recent case too
    assert dsar_json("retention", "purge", env={**env, "DSAR_RETENTION_DAYS": "30"})["cases"] == [
        history["recent"].request_id]
    get_settings.cache_clear()
