"""The deadline sweep over simulated days: D-3, D-1 to the assignee, the due day to assignee and officer,
overdue escalations to the officer daily, a daily digest per organisation; each exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlmodel import col, select

from dsar import engine, reminders
from dsar.calendar_kr import KST
from dsar.clock import FixedClock
from dsar.db import session_scope
from dsar.models import Notice, Request
from tests.test_assignment import OFFICER, contact_id, handler, open_case, register_variant

RECEIVED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 10:00 KST Monday; due 2026-12-03
DESK, BOSS = "desk@testorg.example", "officer@testorg.example"


def _at(day: date, hour: int = 10) -> datetime:
    """`hour` o'clock in Seoul on `day`."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=KST).astimezone(UTC)


def _sweep(at: datetime) -> list[int]:
    with session_scope() as s:
        return reminders.sweep(s, clock=FixedClock(at))


def _staff_mail(kinds: tuple[str, ...] = ("reminder", "escalation_overdue")) -> list[tuple[str, str, str]]:
    """(day the key was made for, kind, recipient) of every staff reminder, in order."""
    with session_scope() as s:
        rows = s.exec(select(Notice).where(col(Notice.kind).in_(kinds)).order_by(col(Notice.id))).all()
    return [(n.dedupe_key.split(":")[1], n.kind, n.recipient or "") for n in rows if n.dedupe_key]


def test_each_reminder_of_a_case_life_is_made_once_for_the_right_person(testorg: int) -> None:
    case_id = open_case(testorg)
    day = date(2026, 11, 23)
    while day <= date(2026, 12, 6):
        for hour in (7, 10, 18):  # three sweeps a day: nothing doubles
            _sweep(_at(day, hour))
        day += timedelta(days=1)
    assert _staff_mail() == [
        ("2026-11-30", "reminder", DESK),
        ("2026-12-02", "reminder", DESK),
        ("2026-12-03", "reminder", DESK),
        ("2026-12-03", "reminder", BOSS),
        ("2026-12-04", "escalation_overdue", BOSS),
        ("2026-12-05", "escalation_overdue", BOSS),
        ("2026-12-06", "escalation_overdue", BOSS),
    ]
    with session_scope() as s:
        notices = {n.dedupe_key: n for n in s.exec(select(Notice).where(Notice.request_id == case_id))}
    d3 = notices[f"reminder:2026-11-30:{case_id}:assignee"]
    assert "D-3" in d3.subject and "이담당 님" in d3.text and "3일 남았습니다" in d3.text
    dday = notices[f"reminder:2026-12-03:{case_id}:officer"]
    assert "오늘이 처리 기한" in dday.subject and "김보호 님" in dday.text
    late = notices[f"escalation_overdue:2026-12-05:{case_id}:officer"]
    assert "2일 경과" in late.subject and "담당자: 이담당" in late.text and "김보호 님" in late.text
    assert "김민지" not in late.text and "minji@example.com" not in late.text


def test_reminders_follow_the_cases_assignee(db: str) -> None:
    org = register_variant("follow", contacts=[OFFICER, handler("가담당", "a@variant.example"),
                                               handler("나담당", "b@variant.example")])
    first, second = open_case(org), open_case(org)
    with session_scope() as s:
        case = s.get(Request, first)
        assert case is not None
        engine.reassign(s, case, contact_id(org, "나담당"), actor="officer", notify=False)
    _sweep(_at(date(2026, 11, 30)))
    with session_scope() as s:
        sent = {n.request_id: n.recipient for n in s.exec(select(Notice).where(Notice.kind == "reminder"))}
    assert sent == {first: "b@variant.example", second: "b@variant.example"}  # 나담당 got the second at opening


def test_an_officer_who_is_also_the_assignee_gets_the_due_day_once(db: str) -> None:
    org = register_variant("alone", contacts=[OFFICER])
    open_case(org)
    _sweep(_at(date(2026, 12, 3)))
    _sweep(_at(date(2026, 12, 3), 15))
    assert _staff_mail() == [("2026-12-03", "reminder", "officer@variant.example")]


def test_no_reminders_for_closed_cases_or_while_waiting_for_the_requester(testorg: int) -> None:
    waiting, closed, running = open_case(testorg), open_case(testorg), open_case(testorg)
    clock = FixedClock(RECEIVED)
    with session_scope() as s:
        for step, kw in (("start_verification", {}), ("request_supplement", {"reason": "신분증 사본"})):
            engine.advance(s, s.get(Request, waiting), step, actor="desk", clock=clock, **kw)  # type: ignore[arg-type]
        case = s.get(Request, closed)
        assert case is not None
        case.closed = True
        s.add(case)
    _sweep(_at(date(2026, 11, 30)))
    with session_scope() as s:
        reminded = [n.request_id for n in s.exec(select(Notice).where(Notice.kind == "reminder"))]
    assert reminded == [running]


def test_a_plan_made_yesterday_or_already_done_creates_nothing(testorg: int) -> None:
    case_id = open_case(testorg)
    d3 = FixedClock(_at(date(2026, 11, 30)))
    with session_scope() as s:
        planned = reminders.plan(s, clock=d3)
        assert planned == [reminders.Reminder(case_id, "reminder", "assignee", date(2026, 11, 30))]
        assert reminders.Reminder.from_list(planned[0].as_list()) == planned[0]
        assert reminders.send(s, planned[0], clock=FixedClock(_at(date(2026, 12, 1)))) is None  # stale
        assert reminders.send_all(s, planned, clock=d3) != []
        assert reminders.send_all(s, planned, clock=d3) == []
        assert reminders.plan(s, clock=d3) == []


def test_two_sweeps_racing_make_each_reminder_once(testorg: int) -> None:
    for _ in range(20):
        open_case(testorg)
    at = _at(date(2026, 12, 3))
    with session_scope() as s:
        planned = reminders.plan(s, clock=FixedClock(at))
    assert len(planned) == 40  # D-day: assignee and officer for each case
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with session_scope() as s:
                reminders.send_all(s, planned, clock=FixedClock(at))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session_scope() as s:
        keys = [n.dedupe_key for n in s.exec(select(Notice).where(Notice.kind == "reminder"))]
    assert len(keys) == 40 and len(set(keys)) == 40


def test_the_daily_digest_goes_once_a_day_to_each_staff_address(testorg: int) -> None:
    first, second = open_case(testorg), open_case(testorg, right="삭제")
    day = date(2026, 11, 24)
    assert _digests() == []
    _sweep(_at(day, 7))  # before digest_hour
    assert _digests() == []
    for hour in (8, 9, 17):
        _sweep(_at(day, hour))
    _sweep(_at(day + timedelta(days=1), 9))
    digests = _digests()
    assert Counter((d.dedupe_key.split(":")[1], d.recipient) for d in digests) == {
        ("2026-11-24", BOSS): 1, ("2026-11-24", DESK): 1, ("2026-11-25", BOSS): 1, ("2026-11-25", DESK): 1}
    with session_scope() as s:
        numbers = [s.get(Request, i).number for i in (first, second)]  # type: ignore[union-attr]
    text = digests[0].text
    assert all(n in text for n in numbers) and "진행 2건" in digests[0].subject and "2026년 11월 24일" in text
    assert "접수" in text and "D-9" in text
    assert digests[0].request_id is None and digests[0].status == "queued"


def test_no_digest_for_an_organisation_without_open_cases(testorg: int) -> None:
    _sweep(_at(date(2026, 11, 24)))
    assert _digests() == []


def _digests() -> list[Notice]:
    with session_scope() as s:
        return list(s.exec(select(Notice).where(Notice.kind == "daily_digest").order_by(col(Notice.id))))
