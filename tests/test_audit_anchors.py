"""Anchors: signed checkpoints of every chain head in an append-only file outside the database. They catch what
the chain alone cannot (a tail rewritten with recomputed hashes, a chain deleted whole), and the file itself is
checked: signature, numbering, links. Settings refuse a production deployment without an anchor key and an audit
retention shorter than two years. Beat writes anchors through a real Celery worker.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlmodel import col, select

from dsar import audit, audit_anchors
from dsar.clock import FixedClock
from dsar.db import get_engine, session_scope
from dsar.errors import DsarError
from dsar.models import AuditEvent, AuditHead
from dsar.settings import Settings, get_settings

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def write_events(n: int, org_id: int | None = None) -> None:
    with session_scope() as s:
        for i in range(n):
            audit.record(s, "request.viewed", actor="staff:desk@testorg.example", org_id=org_id, request_id=i + 1,
                         details={"via": "user"})


def anchor(at: datetime = T0) -> audit_anchors.Anchor:
    with session_scope() as s:
        return audit_anchors.write(s, clock=FixedClock(at))


def verify(path: Path | None = None) -> audit.ChainReport:
    with session_scope() as s:
        return audit_anchors.verify(s, path)


def anchor_lines() -> list[dict]:
    return [json.loads(line) for line in audit_anchors.log_path().read_text().splitlines()]


def rewrite_lines(lines: list[dict]) -> None:
    audit_anchors.log_path().write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_anchor_records_every_chain_head_signed_and_linked(db: str) -> None:
    write_events(3)
    write_events(2, org_id=5)
    first = anchor()
    write_events(1, org_id=5)
    second = anchor(T0 + timedelta(days=1))
    assert audit_anchors.log_path() == get_settings().data_dir / "anchors" / "anchors.jsonl"
    assert [h["chain"] for h in first.heads] == ["org:5", "system"]
    assert [(h["chain"], h["seq"]) for h in second.heads] == [("org:5", 3), ("system", 3)]
    with session_scope() as s:
        last = s.exec(text("SELECT hash FROM auditevent WHERE chain = 'org:5' AND seq = 3")).scalar()
    assert second.heads[0]["hash"] == last
    lines = anchor_lines()
    assert [(a["n"], a["at"]) for a in lines] == [(1, "2026-11-20T15:00:00Z"), (2, "2026-11-21T15:00:00Z")]
    assert lines[0]["prev"] == "0" * 64 and lines[1]["prev"] == lines[0]["mac"]
    report = verify()
    assert report.ok and report.anchors == 2 and report.anchor_problems == []


def test_a_tail_rewritten_with_recomputed_hashes_is_caught_only_by_the_anchor(db: str) -> None:
    write_events(6)
    anchor()
    write_events(2)
    with session_scope() as s:  # mallory edits event 3, recomputes 3..8 and moves the head
        events = list(s.exec(select(AuditEvent).order_by(col(AuditEvent.seq))))
        prev = events[1].hash
        for e in events[2:]:
            e.actor = "staff:mallory@example.com" if e.seq == 3 else e.actor
            e.prev_hash = prev
            e.hash = prev = audit.event_hash(e)
            s.add(e)
        head = s.get(AuditHead, "system")
        assert head is not None
        head.hash = prev
        s.add(head)
    with session_scope() as s:
        assert audit.verify(s).ok  # the chain alone cannot tell
    report = verify()
    assert not report.ok and report.broken is not None
    assert (report.broken["chain"], report.broken["seq"], report.broken["id"]) == ("system", 6, events[5].id)
    assert report.broken["reason"].startswith("앵커 #1에 기록된 해시와 다릅니다: 순번 1~6 사이의 사건이 다시 쓰였")


def test_a_chain_deleted_whole_after_an_anchor_is_caught(db: str) -> None:
    write_events(2)
    write_events(4, org_id=9)
    anchor()
    with get_engine().begin() as conn:
        conn.execute(text("DELETE FROM auditevent WHERE chain = 'org:9'"))
        conn.execute(text("DELETE FROM audithead WHERE chain = 'org:9'"))
    report = verify()
    assert not report.ok and report.broken is not None
    assert (report.broken["id"], report.broken["chain"], report.broken["seq"]) == (None, "org:9", 1)
    assert "앵커 #1에는 순번 4까지 기록되어 있는데 1번부터 없습니다" in report.broken["reason"]


@pytest.mark.parametrize(("damage", "line", "reason"), [
    ("edit", 2, "서명이 맞지 않습니다"),
    ("remove", 2, "앵커 #2이(가) 없습니다"),
    ("garble", 2, "읽을 수 없는 줄입니다"),
    ("reorder", 3, "앵커 #2이(가) 앞 앵커와 이어지지 않습니다"),
])
def test_damage_to_the_anchor_file_itself_is_reported_by_line(sqlite_db: str, damage: str, line: int,
                                                              reason: str) -> None:
    write_events(2)
    for day in range(4):
        anchor(T0 + timedelta(days=day))
    lines = anchor_lines()
    if damage == "edit":  # point anchor 2 at another hash without the key
        lines[1]["heads"][0]["hash"] = "f" * 64
    elif damage == "remove":
        del lines[1]
    elif damage == "reorder":
        lines[1], lines[2] = lines[2], lines[1]
    rewrite_lines(lines)
    if damage == "garble":
        content = audit_anchors.log_path().read_text().splitlines()
        content[1] = content[1][:40]
        audit_anchors.log_path().write_text("\n".join(content) + "\n")
    report = verify()
    assert not report.ok and report.broken is None  # the chain is fine; the anchor file is not
    assert any(p["line"] == line and reason in p["reason"] for p in report.anchor_problems), report.anchor_problems


def test_an_anchor_signed_with_another_key_is_refused(sqlite_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    write_events(1)
    monkeypatch.setenv("DSAR_ANCHOR_KEY", "the key mallory has")
    get_settings.cache_clear()
    anchor()
    monkeypatch.setenv("DSAR_ANCHOR_KEY", "the operator's real key, not in the database")
    get_settings.cache_clear()
    report = verify()
    assert not report.ok and report.anchors == 0
    assert report.anchor_problems == [{"line": 1, "anchor": 1, "reason": audit_anchors.BAD_SIGNATURE}]


def test_the_key_can_come_from_a_file_and_a_missing_file_is_a_clear_error(
    sqlite_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "anchor.key"
    key_file.write_text("a key kept on another volume\n")
    monkeypatch.setenv("DSAR_ANCHOR_KEY_FILE", str(key_file))
    get_settings.cache_clear()
    assert audit_anchors.anchor_key() == b"a key kept on another volume"
    write_events(1)
    anchor()
    assert verify().ok
    key_file.unlink()
    with pytest.raises(DsarError, match="앵커 키 파일 .* 읽을 수 없습니다"):
        verify()


def test_write_if_due_waits_for_the_interval(sqlite_db: str) -> None:
    write_events(1)
    day = timedelta(days=1)
    with session_scope() as s:
        first = audit_anchors.write_if_due(s, clock=FixedClock(T0), every=day)
        again = audit_anchors.write_if_due(s, clock=FixedClock(T0 + timedelta(hours=23)), every=day)
        later = audit_anchors.write_if_due(s, clock=FixedClock(T0 + day), every=day)
    assert first is not None and first.n == 1 and again is None and later is not None and later.n == 2


def test_concurrent_writers_take_consecutive_numbers(db: str) -> None:
    write_events(3)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            anchor()
        except BaseException as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [a["n"] for a in anchor_lines()] == list(range(1, 9))
    assert verify().anchors == 8 and verify().ok


def test_production_refuses_to_start_without_an_anchor_key(tmp_path: Path) -> None:
    production = {"env": "production", "secret_key": "s" * 40, "encryption_key_file": tmp_path / "fernet.keys",
                  "lookup_key": "l" * 40}
    with pytest.raises(ValidationError, match="DSAR_ANCHOR_KEY or DSAR_ANCHOR_KEY_FILE must be set"):
        Settings(**production)
    assert Settings(**production, anchor_key="k" * 40).anchor_key
    assert Settings(**production, anchor_key_file=tmp_path / "anchor.key").anchor_key_file


def test_audit_retention_below_two_years_is_refused_at_settings_load() -> None:
    assert Settings().audit_retention_days == 730
    assert Settings(audit_retention_days=1095).audit_retention_days == 1095
    with pytest.raises(ValidationError, match="최소 730일"):
        Settings(audit_retention_days=365)


def test_beat_schedules_the_anchor_task_on_the_reminders_queue() -> None:
    from tasks.app import app

    entry = app.conf.beat_schedule["audit-anchor"]
    assert entry["task"] == "tasks.audit.anchor" and entry["schedule"] == 900.0  # checks often, writes daily
    assert app.conf.task_routes["tasks.audit.*"] == {"queue": "reminders"}


def test_a_real_worker_writes_the_anchor_once_per_interval(sqlite_db: str, celery_worker_process: object) -> None:
    from tasks.app import app
    from tasks.audit import anchor as anchor_task

    write_events(2)
    path = audit_anchors.log_path()
    app.conf.task_always_eager = False  # to the broker, for the real worker
    try:
        anchor_task.delay()
        deadline = time.monotonic() + 60
        while not path.exists() or not path.read_text():
            assert time.monotonic() < deadline, "the worker wrote no anchor"
            time.sleep(0.1)
        anchor_task.delay()  # the interval (a day) has not passed: nothing more
        anchor_task.delay()
        time.sleep(3)
    finally:
        app.conf.task_always_eager = True
    assert [a["n"] for a in anchor_lines()] == [1] and verify().ok
