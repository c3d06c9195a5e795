"""본인확인: codes by e-mail (real SMTP) and SMS (the logging transport), login, staff document checks and agent
checklists; codes are hashed, expire and lock; an unverified case is reminded once and closed."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlmodel import col, select

from dsar import audit, engine, verification
from dsar.clock import FixedClock
from dsar.db import get_engine, session_scope
from dsar.errors import GuardFailed, InvalidInput, TransitionError
from dsar.mail import DeliveryFailed
from dsar.models import AuditEvent, Notice, Request, StageEvent
from dsar.settings import get_settings
from dsar.verification_models import Verification, VerificationChallenge, VerificationCheck
from tests.test_assignment import open_case, register_variant

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 10:00 KST
CODE = re.compile(r"확인 코드 (\d{6})")


def _start(case_id: int, clock: FixedClock) -> None:
    with session_scope() as s:
        verification.start(s, _case(s, case_id), actor="desk", clock=clock)


def _case(s, case_id: int) -> Request:  # type: ignore[no-untyped-def]
    case = s.get(Request, case_id, populate_existing=True)
    assert case is not None
    return case


def _send(case_id: int, clock: FixedClock, method: str = "email_code", **kw: object) -> VerificationChallenge:
    with session_scope() as s:
        return verification.send_code(s, _case(s, case_id), method=method, actor="requester", clock=clock, **kw)  # type: ignore[arg-type]


def _check(case_id: int, code: str, clock: FixedClock) -> verification.CodeCheck:
    with session_scope() as s:
        return verification.check_code(s, _case(s, case_id), code, actor="requester", clock=clock)


def _stage(case_id: int) -> str:
    with session_scope() as s:
        return _case(s, case_id).stage


def _mailed_code(smtp_server, count: int) -> str:  # type: ignore[no-untyped-def]
    mail = smtp_server.wait_for(count)
    assert len(mail) == count
    body = mail[-1].get_body(preferencelist=("plain",)).get_content()
    match = CODE.search(body)
    assert match, body
    return match.group(1)


def _database_text() -> str:
    """Every value in every table, as text: what someone reading the database would see."""
    engine_ = get_engine()
    chunks = []
    with engine_.connect() as conn:
        for table in inspect(engine_).get_table_names():
            chunks += [repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]
    return "\n".join(chunks)


def test_email_code_reaches_the_requester_but_the_database_holds_only_its_salted_hmac(
    testorg: int, smtp_server  # type: ignore[no-untyped-def]
) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg)
    _start(case_id, clock)
    challenge = _send(case_id, clock)
    code = _mailed_code(smtp_server, 1)
    message = smtp_server.messages[0]
    assert message["To"] == "minji@example.com" and "본인 확인" in str(message["Subject"])
    assert "10분 동안 유효" in message.get_body(preferencelist=("plain",)).get_content()

    expected = hmac.new(get_settings().secret_key.encode(), f"{challenge.salt}:{code}".encode(),
                        hashlib.sha256).hexdigest()
    assert challenge.code_hash == expected and len(challenge.salt) == 32
    with session_scope() as s:
        notice = s.get(Notice, challenge.notice_id)
        assert notice is not None and notice.status == "sent" and notice.kind == "verification_request"
        assert verification.CODE_MASK in notice.text and verification.CODE_MASK in notice.html
    assert code not in _database_text()


def test_the_right_code_verifies_and_moves_the_case_to_review(testorg: int, smtp_server) -> None:  # type: ignore[no-untyped-def]
    clock = FixedClock(START)
    case_id = open_case(testorg)
    _start(case_id, clock)
    assert _stage(case_id) == "verifying"
    _send(case_id, clock)
    code = _mailed_code(smtp_server, 1)
    assert _check(case_id, "000000" if code != "000000" else "111111", clock).outcome == "wrong"
    result = _check(case_id, f" {code[:3]} {code[3:]} ", clock)  # spaces as people type them
    assert result.ok and _stage(case_id) == "reviewing"
    with session_scope() as s:
        event = s.exec(select(StageEvent).where(StageEvent.request_id == case_id, StageEvent.transition == "verify")
                       ).one()
        check = s.exec(select(VerificationCheck).where(VerificationCheck.request_id == case_id)).one()
        v = s.exec(select(Verification).where(Verification.request_id == case_id)).one()
        events = [(e.action, e.details) for e in audit.events_for(s, case_id) if e.action.startswith("verification.")]
    assert event.reason == "본인확인 완료: 전자우편 확인 코드" and event.actor == "requester"
    assert check.method == "email_code" and v.status == "verified"
    assert [a for a, _ in events] == ["verification.started", "verification.code_issued",
                                      "verification.code_rejected", "verification.code_accepted"]
    assert "minji@example.com" not in json.dumps([d for _, d in events], ensure_ascii=False)
    assert _check(case_id, code, clock).outcome == "no_code"  # a used code does not work twice


def test_wrong_entries_lock_the_code_after_the_limit(testorg: int, smtp_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DSAR_VERIFICATION_MAX_ATTEMPTS", "3")
    get_settings.cache_clear()
    clock = FixedClock(START)
    case_id = open_case(testorg)
    _send(case_id, clock)  # starts the check on its own
    code = _mailed_code(smtp_server, 1)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert [(r.outcome, r.attempts_left) for r in (_check(case_id, wrong, clock) for _ in range(3))] == [
        ("wrong", 2), ("wrong", 1), ("locked", 0)]
    assert _check(case_id, code, clock).outcome == "locked"
    assert _stage(case_id) == "verifying"
    with session_scope() as s:
        challenge = s.exec(select(VerificationChallenge)).one()
        assert (challenge.status, challenge.attempts) == ("locked", 3)


def test_a_code_expires_after_its_lifetime_and_a_new_one_replaces_the_old(
    testorg: int, smtp_server  # type: ignore[no-untyped-def]
) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg)
    _send(case_id, clock)
    first = _mailed_code(smtp_server, 1)
    clock.advance(minutes=10)
    assert _check(case_id, first, clock).outcome == "expired"
    _send(case_id, clock)
    second = _mailed_code(smtp_server, 2)
    _send(case_id, clock)
    third = _mailed_code(smtp_server, 3)
    if second != third:
        assert _check(case_id, second, clock).outcome == "wrong"  # superseded: only the newest code counts
    clock.advance(minutes=9, seconds=59)
    assert _check(case_id, third, clock).ok


def test_sms_code_goes_through_the_sms_transport(testorg: int, tmp_path: Path) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg, requester_phone="010-1234-5678")
    log = tmp_path / "sms.log"
    challenge = _send(case_id, clock, method="phone_code", sms=verification.LoggingSmsTransport(log))
    sent = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(sent) == 1 and sent[0]["to"] == "010-1234-5678"
    assert "테스트주식회사" in sent[0]["text"] and "본인 확인 코드는" in sent[0]["text"]
    code = re.search(r"(\d{6})입니다", sent[0]["text"]).group(1)  # type: ignore[union-attr]
    assert challenge.notice_id is None and code not in _database_text()
    assert _check(case_id, code, clock).ok and _stage(case_id) == "reviewing"


def test_codes_per_case_are_limited_and_need_an_address(testorg: int, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DSAR_VERIFICATION_MAX_CODES", "2")
    get_settings.cache_clear()
    clock = FixedClock(START)
    sms = verification.LoggingSmsTransport(tmp_path / "sms.log")
    case_id = open_case(testorg, requester_phone="010-1234-5678")
    _send(case_id, clock, method="phone_code", sms=sms)
    _send(case_id, clock, method="phone_code", sms=sms)
    with pytest.raises(GuardFailed, match="이미 2번"):
        _send(case_id, clock, method="phone_code", sms=sms)
    no_phone = open_case(testorg)
    with pytest.raises(InvalidInput, match="휴대전화 번호"):
        _send(no_phone, clock, method="phone_code", sms=sms)
    assert len((tmp_path / "sms.log").read_text().splitlines()) == 2


def test_a_code_mail_that_cannot_be_sent_is_void_and_does_not_block_closing(testorg: int) -> None:
    clock = FixedClock(START)  # no SMTP fixture: the configured port refuses connections
    case_id = open_case(testorg)
    with pytest.raises(DeliveryFailed):
        _send(case_id, clock)
    with session_scope() as s:
        challenge = s.exec(select(VerificationChallenge)).one()
        notice = s.get(Notice, challenge.notice_id)
        assert challenge.status == "void" and notice is not None and notice.status == "void"
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "notice.failed")).one()
        for n in s.exec(select(Notice).where(col(Notice.status) == "queued")):
            n.status = "sent"  # the acknowledgement
            s.add(n)
    assert _check(case_id, "123456", clock).outcome == "no_code"
    with session_scope() as s:
        engine.advance(s, _case(s, case_id), "close_unverified", actor="desk", clock=clock, reason="연락 없음",
                       officer_approval="김보호")
    with session_scope() as s:
        for n in s.exec(select(Notice).where(Notice.kind == "unverified_closure")):
            n.status = "sent"
            s.add(n)
    with session_scope() as s:
        assert engine.advance(s, _case(s, case_id), "close", actor="desk", clock=clock).closed


def test_login_proves_identity_only_where_the_policy_offers_it(db: str) -> None:
    org = register_variant("login-only", verification=["로그인"])
    clock = FixedClock(START)
    case_id = open_case(org)
    _start(case_id, clock)
    with session_scope() as s:
        v = s.exec(select(Verification).where(Verification.request_id == case_id)).one()
        assert v.methods == ["login", "document"]
        with pytest.raises(InvalidInput, match="email_code"):
            verification.send_code(s, _case(s, case_id), method="email_code", actor="x", clock=clock)
    with session_scope() as s:
        verification.confirm_login(s, _case(s, case_id), actor="web-login", clock=clock)
    assert _stage(case_id) == "reviewing"
    other = open_case(register_variant("code-only", verification=["본인인증"]))
    _start(other, clock)
    with session_scope() as s, pytest.raises(InvalidInput, match="로그인"):
        verification.confirm_login(s, _case(s, other), actor="x", clock=clock)
    assert _stage(other) == "verifying"


def test_a_document_check_records_who_when_and_which_kind_only(testorg: int) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg)
    _start(case_id, clock)
    with session_scope() as s:
        with pytest.raises(InvalidInput, match="passport"):
            verification.record_document_check(s, _case(s, case_id), document_type="주민번호", actor="desk-lee",
                                               clock=clock)
    clock.advance(hours=2)
    with session_scope() as s:
        verification.record_document_check(s, _case(s, case_id), document_type="driver_licence", actor="desk-lee",
                                           clock=clock)
    with session_scope() as s:
        check = s.exec(select(VerificationCheck).where(VerificationCheck.request_id == case_id)).one()
        event = next(e for e in audit.events_for(s, case_id) if e.action == "verification.document_checked")
    assert (check.method, check.item, check.actor, check.at, check.details) == (
        "document", "driver_licence", "desk-lee", START + timedelta(hours=2), {})
    assert event.details == {"document_type": "driver_licence"} and event.actor == "desk-lee"
    assert _stage(case_id) == "reviewing"


def test_a_proxy_is_verified_only_when_every_checklist_item_is_ticked(testorg: int) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg, agent_kind="위임")
    _start(case_id, clock)
    with session_scope() as s:
        ask = s.exec(select(Notice).where(Notice.request_id == case_id, Notice.kind == "verification_request")).one()
    assert "위임장" in ask.text and "정보주체(위임하신 분)의 신분증 사본" in ask.text and ask.status == "queued"
    items = [i.code for i in verification.AGENT_CHECKLISTS["위임"]]
    for item in items[:-1]:
        with session_scope() as s:
            verification.tick(s, _case(s, case_id), item, actor="desk-lee", clock=clock)
        with session_scope() as s:  # ticking twice changes nothing
            verification.tick(s, _case(s, case_id), item, actor="someone-else", clock=clock)
        assert _stage(case_id) == "verifying"
    with session_scope() as s:
        with pytest.raises(InvalidInput, match="power_of_attorney"):
            verification.tick(s, _case(s, case_id), "relationship_proof", actor="desk-lee", clock=clock)
        view = verification.checklist(s, _case(s, case_id))
    assert [(row["item"], row["done"], row["by"]) for row in view] == [
        (c, c != items[-1], "desk-lee" if c != items[-1] else None) for c in items]
    with session_scope() as s:
        verification.tick(s, _case(s, case_id), items[-1], actor="desk-lee", clock=clock)
    assert _stage(case_id) == "reviewing"
    with session_scope() as s:
        ticks = [e.details for e in audit.events_for(s, case_id) if e.action == "verification.checklist_ticked"]
    assert ticks == [{"agent_kind": "위임", "item": i} for i in items]


def test_a_legal_representative_shows_the_family_relation(testorg: int) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg, agent_kind="법정대리인")
    _start(case_id, clock)
    with session_scope() as s:
        ask = s.exec(select(Notice).where(Notice.request_id == case_id, Notice.kind == "verification_request")).one()
        labels = [row["label"] for row in verification.checklist(s, _case(s, case_id))]
    assert "가족관계증명서" in ask.text and "법정대리인의 신분증 사본" in ask.text
    assert any("만 14세 미만" in label for label in labels) and any("가족관계증명서" in label for label in labels)
    for item in ("relationship_proof", "subject_under_14", "representative_identity"):
        assert _stage(case_id) == "verifying"
        with session_scope() as s:
            verification.tick(s, _case(s, case_id), item, actor="desk-lee", clock=clock)
    assert _stage(case_id) == "reviewing"


def test_a_subjects_request_has_no_checklist_to_tick(testorg: int) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg)
    _start(case_id, clock)
    with session_scope() as s, pytest.raises(InvalidInput, match="대리인 요구가 아니"):
        verification.tick(s, _case(s, case_id), "agent_identity", actor="desk", clock=clock)


def test_an_unverified_requester_is_reminded_once_then_the_case_closes(testorg: int) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg)
    _start(case_id, clock)

    def sweep_at(at: datetime) -> list[int]:
        clock.set(at)
        with session_scope() as s:
            return verification.sweep(s, clock=clock)

    assert sweep_at(START + timedelta(days=2, hours=23)) == []
    reminder = sweep_at(START + timedelta(days=3))
    assert len(reminder) == 1
    assert sweep_at(START + timedelta(days=3, hours=1)) == [] and sweep_at(START + timedelta(days=5)) == []
    with session_scope() as s:
        notice = s.get(Notice, reminder[0])
        assert notice is not None and notice.kind == "verification_request"
        assert notice.dedupe_key == f"verification_reminder:{case_id}" and notice.recipient == "minji@example.com"
        assert "2026년 11월 30일" in notice.text  # the date the case will be closed
        assert _case(s, case_id).stage == "verifying"
    closure = sweep_at(START + timedelta(days=7))
    with session_scope() as s:
        case = _case(s, case_id)
        letter = s.get(Notice, closure[0])
        assert case.stage == "notifying" and not case.closed
        assert letter is not None and letter.kind == "unverified_closure" and letter.status == "queued"
        assert letter.approved_by == verification.STANDING_APPROVAL and "확인할 수 없었습니다" in letter.text
        for n in s.exec(select(Notice).where(Notice.request_id == case_id)):
            n.status = "sent"
            s.add(n)
    assert sweep_at(START + timedelta(days=7, minutes=5)) == []
    with session_scope() as s:
        assert _case(s, case_id).closed
        assert s.exec(select(Verification)).one().status == "finished"
        assert audit.verify(s).ok


def test_the_sweep_leaves_a_case_staff_moved_on_by_hand(testorg: int) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg)
    _start(case_id, clock)
    with session_scope() as s:
        engine.advance(s, _case(s, case_id), "verify", actor="desk", clock=clock)
    clock.advance(days=8)
    with session_scope() as s:
        assert verification.sweep(s, clock=clock) == []
        assert s.exec(select(Verification)).one().status == "superseded"
        assert _case(s, case_id).stage == "reviewing"


def test_starting_needs_a_case_that_can_enter_the_check(testorg: int) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg)
    for step in ("start_verification", "verify"):
        with session_scope() as s:
            engine.advance(s, _case(s, case_id), step, actor="desk", clock=clock)
    with session_scope() as s, pytest.raises(TransitionError, match="본인확인을 시작할 수 없습니다"):
        verification.start(s, _case(s, case_id), actor="desk", clock=clock)


def test_a_code_mail_left_held_by_a_crash_is_voided_once_its_code_expires(
    testorg: int, smtp_server  # type: ignore[no-untyped-def]
) -> None:
    clock = FixedClock(START)
    case_id = open_case(testorg)
    challenge = _send(case_id, clock)
    with session_scope() as s:  # as if the process died between committing the code and sending the mail
        notice = s.get(Notice, challenge.notice_id)
        assert notice is not None
        notice.status = "held"
        s.add(notice)
    with session_scope() as s:
        assert verification.sweep(s, clock=clock) == []
        assert s.get(Notice, challenge.notice_id, populate_existing=True).status == "held"  # type: ignore[union-attr]
    clock.advance(minutes=10)
    with session_scope() as s:
        verification.sweep(s, clock=clock)
    with session_scope() as s:
        notice = s.get(Notice, challenge.notice_id)
        code = s.get(VerificationChallenge, challenge.id)
        assert notice is not None and code is not None
        assert (notice.status, code.status) == ("void", "expired")
