"""The engine moves a case only the way its definition allows, with guards, audit and notice in one go."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from dsar import audit, engine
from dsar.clock import FixedClock
from dsar.db import session_scope
from dsar.errors import Conflict, GuardFailed, TransitionError
from dsar.models import AuditEvent, Notice, Organisation, Request, StageEvent

RECEIVED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 10:00 KST, Monday


def _open(org_id: int, right: str = "열람", email: str | None = "minji@example.com") -> int:
    clock = FixedClock(RECEIVED)
    with session_scope() as s:
        org = s.get(Organisation, org_id)
        case = engine.open_case(s, org=org, right=right, received_at=RECEIVED, actor="test", clock=clock,
                                requester_email=email, requester_name="김민지")
        return case.id or 0


def _advance(case_id: int, name: str, **kw: object) -> Request:
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None
        return engine.advance(s, case, name, actor="staff", clock=FixedClock(RECEIVED), **kw)  # type: ignore[arg-type]


def test_new_case_gets_number_due_date_and_acknowledgement(testorg: int) -> None:
    case_id = _open(testorg)
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None
        assert case.number == f"DSAR-2026-{case_id:06d}"
        assert case.stage == "received" and case.due_date.isoformat() == "2026-12-03"
        assert "민법 제159조" in case.due_basis["basis"][-1]
        ack = s.exec(select(Notice).where(Notice.request_id == case_id)).one()
        assert ack.kind == "acknowledgement" and ack.status == "queued" and case.number in ack.subject
        assert [e.action for e in audit.events_for(s, case_id)] == ["request.opened", "notice.rendered"]


def test_happy_path_runs_to_closed_only_after_the_notice_is_sent(testorg: int) -> None:
    case_id = _open(testorg)
    for step in ("start_verification", "verify", "approve"):
        _advance(case_id, step)
    with pytest.raises(GuardFailed, match="발송되지 않은 통지"):
        _advance(case_id, "close")
    with session_scope() as s:
        for n in s.exec(select(Notice).where(Notice.request_id == case_id)):
            n.status = "sent"
            s.add(n)
    case = _advance(case_id, "close")
    assert case.stage == "closed" and case.closed
    with session_scope() as s:
        stages = [e.to_stage for e in s.exec(select(StageEvent).where(StageEvent.request_id == case_id)
                                              .order_by(StageEvent.id))]
    assert stages == ["verifying", "reviewing", "notifying", "closed"]


def test_transition_not_allowed_from_the_stage_leaves_the_case_unchanged(testorg: int) -> None:
    case_id = _open(testorg)
    with session_scope() as s:
        before = len(list(s.exec(select(AuditEvent))))
        version = s.get(Request, case_id).row_version  # type: ignore[union-attr]
    with pytest.raises(TransitionError, match="'approve'은\\(는\\) '접수' 단계에서 할 수 없습니다") as exc:
        _advance(case_id, "approve")
    assert "start_verification(본인확인 시작)" in exc.value.message
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None and case.stage == "received" and case.row_version == version
        assert len(list(s.exec(select(AuditEvent)))) == before


def test_refusal_needs_a_legal_ground_from_the_list_and_the_officers_approval(testorg: int) -> None:
    case_id = _open(testorg, right="삭제")
    _advance(case_id, "start_verification")
    _advance(case_id, "verify")
    with pytest.raises(GuardFailed, match="법적 근거") as missing:
        _advance(case_id, "refuse", reason="보존 의무")
    assert "retention_required" in missing.value.message
    with pytest.raises(GuardFailed, match="이 권리에 없습니다"):
        _advance(case_id, "refuse", reason="보존 의무", ground="harm_to_others", officer_approval="김보호")
    with pytest.raises(GuardFailed, match="보호책임자 승인"):
        _advance(case_id, "refuse", reason="보존 의무", ground="retention_required")
    case = _advance(case_id, "refuse", reason="전자상거래법에 따른 보존 기간 중입니다", ground="retention_required",
                    officer_approval="김보호")
    assert case.stage == "notifying"
    with session_scope() as s:
        letter = s.exec(select(Notice).where(Notice.request_id == case_id, Notice.kind == "rectify_erase_result")).one()
    assert letter.approved_by == "김보호"
    assert "제36조" in letter.text and "5년" in letter.text and "전자상거래" in letter.text
    assert "개인정보침해신고센터" in letter.text


def test_stale_version_loses_with_a_conflict(testorg: int) -> None:
    case_id = _open(testorg)
    with pytest.raises(Conflict):
        _advance(case_id, "start_verification", expected_version=99)
    with session_scope() as first, session_scope() as second:
        a, b = first.get(Request, case_id), second.get(Request, case_id)
        assert a is not None and b is not None
        engine.advance(first, a, "start_verification", actor="one", clock=FixedClock(RECEIVED))
        first.commit()
        with pytest.raises(Conflict):
            engine.advance(second, b, "start_verification", actor="two", clock=FixedClock(RECEIVED))
        second.rollback()
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None and case.stage == "verifying"
        assert [e.actor for e in s.exec(select(StageEvent).where(StageEvent.request_id == case_id))] == ["one"]


def test_waiting_for_the_requester_pauses_the_clock(testorg: int) -> None:
    case_id = _open(testorg)
    _advance(case_id, "start_verification")
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None
        engine.advance(s, case, "request_supplement", actor="staff", reason="본인 확인 서류",
                       clock=FixedClock(datetime(2026, 11, 24, 1, 0, tzinfo=UTC)))
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None
        engine.advance(s, case, "supplement_received", actor="staff",
                       clock=FixedClock(datetime(2026, 11, 27, 1, 0, tzinfo=UTC)))
        assert case.due_date.isoformat() == "2026-12-07"  # 3 days paused: 12-06 is a Sunday → Monday
        assert case.due_basis["paused_days"] == 3


def test_unrouted_case_keeps_its_clock_but_has_no_actions(db: str) -> None:
    clock = FixedClock(RECEIVED)
    with session_scope() as s:
        case = engine.open_case(s, org=None, right="열람", received_at=RECEIVED, actor="test", clock=clock)
        assert case.stage == engine.UNROUTED and case.due_date.isoformat() == "2026-12-03"
        assert engine.allowed(s, case) == []
        with pytest.raises(TransitionError, match="조직"):
            engine.advance(s, case, "approve", actor="staff", clock=clock)
