"""The organisation's internal target (`internal_target_days`) beside the legal due date: counted like the due date,
never after it, kept out of the arithmetic the requester is sent, and printed by `dsar deadline`. The API and
console show it too: tests/api/test_internal_target_shown.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from dsar.deadlines import KST, Extension, KoreanCalendar, Pause, compute_due, rules_for
from dsar.errors import InvalidInput
from dsar.rights import Right
from tests.cli import dsar, dsar_json

ACCESS_7 = replace(rules_for(Right.ACCESS), internal_target_days=7)


@pytest.fixture(scope="module")
def cal() -> KoreanCalendar:
    return KoreanCalendar()


def kst(y: int, m: int, d: int, hh: int = 10) -> datetime:
    return datetime(y, m, d, hh, 0, tzinfo=KST)


def test_a_last_day_on_chuseok_moves_to_the_next_working_day(cal: KoreanCalendar) -> None:
    # Fri 18 Sep 2026: day 7 is Fri 25 Sep (추석), then 추석 연휴 Sat 26 and Sun 27 → Mon 28 Sep.
    due = compute_due(kst(2026, 9, 18), ACCESS_7, cal)
    assert due.internal_target == date(2026, 9, 28) == due.due_date
    assert "2026년 9월 25일(금)이 공휴일(추석)이므로 다음 평일로" in (due.internal_note or "")
    assert due.internal_note.endswith("→ 2026년 9월 28일(월) (조직이 정한 목표이며 법정 기한이 아님)")  # type: ignore[union-attr]


def test_holidays_in_between_count_under_the_civil_code_and_are_skipped_under_petitions_counting(
    cal: KoreanCalendar,
) -> None:
    # Mon 21 Sep 2026, with 추석 (Thu 24 – Sat 26 Sep) inside the period.
    civil = compute_due(kst(2026, 9, 21), ACCESS_7, cal)
    assert (civil.internal_target, civil.due_date) == (date(2026, 9, 28), date(2026, 10, 1))
    petitions = compute_due(kst(2026, 9, 21), replace(ACCESS_7, counting="civil_petitions"), cal)
    # 21, 22, 23, 28, 29, 30 Sep, 1 Oct: the 7th counted day; the legal 10th skips 개천절 대체 휴일 (5 Oct).
    assert (petitions.internal_target, petitions.due_date) == (date(2026, 10, 1), date(2026, 10, 7))
    assert "산입하는 날로 7일째" in (petitions.internal_note or "")


def test_pauses_before_the_target_and_extensions_move_it_like_the_due_date(cal: KoreanCalendar) -> None:
    pause = Pause(kst(2026, 11, 24), kst(2026, 11, 27), "신분 확인 서류 보완")
    due = compute_due(kst(2026, 11, 23), ACCESS_7, cal, pauses=[pause])
    # 24 Nov + 7 days + 3 paused = 3 Dec; legal: + 10 + 3 = 6 Dec (Sun) → 7 Dec.
    assert (due.internal_target, due.due_date) == (date(2026, 12, 3), date(2026, 12, 7))
    assert "7일 + 보완 대기 3일 = 10일째" in (due.internal_note or "")
    late = Pause(kst(2026, 12, 1), kst(2026, 12, 2), "추가 자료")  # begins after the target: moves only the due date
    assert compute_due(kst(2026, 11, 23), ACCESS_7, cal, pauses=[late]).internal_target == date(2026, 11, 30)
    automated = replace(rules_for(Right.AUTOMATED_DECISION), internal_target_days=20)
    extended = compute_due(kst(2026, 11, 23), automated, cal, extensions=[Extension(30, "검토 인력 부족")])
    assert (extended.internal_target, extended.due_date) == (date(2027, 1, 12), date(2027, 1, 22))
    assert "20일 + 연장 30일 = 50일째" in (extended.internal_note or "")


def test_the_target_is_never_after_the_legal_due_date(cal: KoreanCalendar) -> None:
    due = compute_due(kst(2026, 11, 23), replace(ACCESS_7, internal_target_days=15), cal)
    assert due.internal_target == due.due_date == date(2026, 12, 3)
    assert "법정 기한보다 늦을 수 없어" in (due.internal_note or "")
    with pytest.raises(InvalidInput, match="internal_target_days"):
        replace(ACCESS_7, internal_target_days=0)


def test_without_a_target_nothing_is_added_and_the_arithmetic_sent_to_requesters_never_mentions_it(
    cal: KoreanCalendar,
) -> None:
    plain = compute_due(kst(2026, 11, 23), rules_for(Right.ACCESS), cal).as_dict()
    assert (plain["internal_target"], plain["internal_target_days"], plain["internal_note"]) == (None, None, None)
    with_target = compute_due(kst(2026, 11, 23), ACCESS_7, cal).as_dict()
    assert with_target["internal_target"] == "2026-11-30" and with_target["internal_target_days"] == 7
    assert with_target["basis"] == plain["basis"]  # the acknowledgement quotes `basis`


def test_a_case_of_an_organisation_with_a_target_carries_it(testorg: int) -> None:
    from dsar.db import session_scope
    from dsar.models import Notice, Request
    from tests.test_assignment import open_case

    case_id = open_case(testorg)  # testorg: internal_target_days 7; received Mon 23 Nov 2026
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None and case.due_basis["internal_target"] == "2026-11-30"
        assert case.due_date == date(2026, 12, 3)
        letters = s.exec(select(Notice).where(Notice.request_id == case_id)).all()
        assert letters and all("내부 목표" not in n.text for n in letters)


# ----------------------------------------------------------------------------------------- dsar deadline


def test_deadline_command_shows_the_organisations_target(testorg: int, db: str, tmp_path: Path) -> None:
    env = {"DSAR_DATABASE_URL": db, "DSAR_DATA_DIR": str(tmp_path / "var"),
           "DSAR_BROKER_URL": "redis://127.0.0.1:6379/10"}
    data = dsar_json("deadline", "--received", "2026-09-18T10:00+09:00", "--right", "열람", "--org", "testorg",
                     env=env)
    assert (data["due"], data["internal_target"], data["internal_target_days"]) == ("2026-09-28", "2026-09-28", 7)
    human = dsar("deadline", "--received", "2026-11-23T10:00+09:00", "--right", "열람", "--org", "testorg",
                 env=env).stdout
    assert human.splitlines()[0] == "기한: 2026-12-03"
    assert human.splitlines()[-1].startswith("내부 목표일 2026-11-30: 2026년 11월 24일(화)부터 7일째")
    bare = dsar("deadline", "--received", "2026-11-23T10:00+09:00", "--right", "열람").stdout
    assert "내부 목표" not in bare
    unknown = dsar("deadline", "--received", "2026-11-23T10:00+09:00", "--right", "열람", "--org", "nosuch",
                   env=env, check=False)
    assert unknown.returncode == 1 and "조직 'nosuch'이(가) 없습니다" in unknown.stderr


def test_received_in_utc_is_counted_on_the_korean_date(cal: KoreanCalendar) -> None:
    # 23:30 UTC on Sun 22 Nov is 08:30 on Mon 23 Nov in Seoul: same target as a Monday receipt.
    due = compute_due(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), ACCESS_7, cal)
    assert due.internal_target == date(2026, 11, 30)
