"""Due dates under 민법 제157·159·161조 on the Korean calendar: worked examples and hand-checked cases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from dsar.deadlines import (
    KST,
    ClockRules,
    Due,
    Extension,
    KoreanCalendar,
    Pause,
    compute_due,
    days_left,
    rules_for,
)
from dsar.errors import InvalidInput
from dsar.rights import Right

ACCESS = rules_for(Right.ACCESS)
AUTOMATED = rules_for(Right.AUTOMATED_DECISION)
PETITIONS = rules_for(Right.ACCESS, counting="civil_petitions")


@pytest.fixture(scope="module")
def cal() -> KoreanCalendar:
    return KoreanCalendar()


def kst(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=KST)


def due_of(received: datetime, cal: KoreanCalendar, rules: ClockRules = ACCESS, **kw: object) -> date:
    return compute_due(received, rules, cal, **kw).due_date  # type: ignore[arg-type]


# --- the worked examples ---


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 11, 23), date(2026, 12, 3)),
        (date(2026, 12, 16), date(2026, 12, 28)),  # day 10 is a Saturday, then a Sunday
        (date(2026, 9, 15), date(2026, 9, 28)),  # day 10 is 추석, then 추석 다음날 (Sat) and a Sunday
    ],
)
def test_worked_examples_hold(cal: KoreanCalendar, received: date, due: date) -> None:
    assert due_of(datetime.combine(received, time(10), KST), cal) == due


def test_basis_shows_each_step_of_the_saturday_example(cal: KoreanCalendar) -> None:
    due = compute_due(kst(2026, 12, 16), ACCESS, cal)
    assert due.basis == [
        "접수 일시 2026년 12월 16일(수) 10:00 (한국 시각)",
        "접수일 2026년 12월 16일(수)은 기간에 산입하지 않음 (민법 제157조)",
        "법정 처리기간 10일 (개인정보 보호법 제35조, 시행령 제41조)",
        "2026년 12월 17일(목)부터 10일째 → 기간 말일 2026년 12월 26일(토)",
        "기간 말일 2026년 12월 26일(토) → 토요일이므로 다음 날로 (민법 제161조)",
        "2026년 12월 27일(일) → 공휴일(일요일)이므로 다음 날로 (민법 제161조)",
        "기한: 2026년 12월 28일(월) 24:00까지 (민법 제159조)",
    ]


def test_basis_names_the_holidays_that_moved_the_chuseok_example(cal: KoreanCalendar) -> None:
    basis = compute_due(kst(2026, 9, 15), ACCESS, cal).basis
    assert "기간 말일 2026년 9월 25일(금) → 공휴일(추석)이므로 다음 날로 (민법 제161조)" in basis
    assert "2026년 9월 26일(토) → 토요일·공휴일(추석 다음날)이므로 다음 날로 (민법 제161조)" in basis
    assert basis[-1] == "기한: 2026년 9월 28일(월) 24:00까지 (민법 제159조)"


def test_basis_has_no_moving_step_when_the_last_day_is_open(cal: KoreanCalendar) -> None:
    basis = compute_due(kst(2026, 11, 23), ACCESS, cal).basis
    assert not any("민법 제161조" in line for line in basis)
    assert basis[-1] == "기한: 2026년 12월 3일(목) 24:00까지 (민법 제159조)"


# --- holidays moving the last day ---


@pytest.mark.parametrize(
    ("received", "due", "why"),
    [
        (date(2026, 2, 6), date(2026, 2, 19), "설날 연휴 2026-02-16..18"),
        (date(2027, 1, 28), date(2027, 2, 10), "설날 on Sat/Sun + 대체공휴일 2027-02-09"),
        (date(2025, 9, 23), date(2025, 10, 10), "개천절, weekend, 추석, 대체공휴일, 한글날: 7 closed days"),
        (date(2025, 2, 21), date(2025, 3, 4), "삼일절 대체공휴일 2025-03-03"),
        (date(2026, 5, 15), date(2026, 5, 26), "부처님오신날 Sun + 대체공휴일 Mon"),
        (date(2025, 12, 15), date(2025, 12, 26), "기독탄신일 Thu"),
        (date(2026, 12, 15), date(2026, 12, 28), "기독탄신일 Fri, then a weekend"),
        (date(2025, 12, 22), date(2026, 1, 2), "year end: day 10 is 1 January"),
        (date(2026, 12, 22), date(2027, 1, 4), "1 January on a Friday, then a weekend"),
        (date(2024, 3, 31), date(2024, 4, 11), "국회의원 선거일 2024-04-10"),
        (date(2025, 5, 24), date(2025, 6, 4), "대통령 선거일 2025-06-03 (snap election)"),
        (date(2026, 5, 24), date(2026, 6, 4), "지방선거일 2026-06-03"),
        (date(2025, 1, 17), date(2025, 1, 31), "임시공휴일 2025-01-27 then 설날 연휴"),
        (date(2026, 4, 21), date(2026, 5, 4), "노동절 2026-05-01 is a 공휴일 from 2026, then a weekend"),
    ],
)
def test_public_holidays_move_the_due_date(cal: KoreanCalendar, received: date, due: date, why: str) -> None:
    assert due_of(datetime.combine(received, time(14), KST), cal) == due, why


def test_operator_added_holiday_moves_a_due_date() -> None:
    received = kst(2026, 11, 23)
    assert due_of(received, KoreanCalendar()) == date(2026, 12, 3)
    with_extra = KoreanCalendar(extra_holidays=[date(2026, 12, 3)])
    due = compute_due(received, ACCESS, with_extra)
    assert due.due_date == date(2026, 12, 4)
    assert (
        "기간 말일 2026년 12월 3일(목) → 공휴일(임시공휴일(운영자 지정))이므로 다음 날로 (민법 제161조)"
        in due.basis
    )


def test_operator_added_2025_01_27_is_already_in_the_package_so_adding_it_changes_nothing() -> None:
    received = kst(2025, 1, 17)
    plain = due_of(received, KoreanCalendar())
    assert plain == due_of(received, KoreanCalendar(extra_holidays=[date(2025, 1, 27)])) == date(2025, 1, 31)


def test_operator_holiday_on_an_open_day_after_a_weekend_extends_the_move() -> None:
    # 2026-12-28 (Mon) would be the due date; an operator holiday that day pushes it to Tuesday.
    cal = KoreanCalendar(extra_holidays={date(2026, 12, 28): "임시공휴일(연말 특별 지정)"})
    due = compute_due(kst(2026, 12, 16), ACCESS, cal)
    assert due.due_date == date(2026, 12, 29)
    assert (
        "2026년 12월 28일(월) → 공휴일(임시공휴일(연말 특별 지정))이므로 다음 날로 (민법 제161조)"
        in due.basis
    )


# --- Korean day vs UTC instant ---


def test_late_utc_evening_is_received_on_the_next_korean_day(cal: KoreanCalendar) -> None:
    due = compute_due(datetime(2026, 11, 22, 15, 30, tzinfo=UTC), ACCESS, cal)
    assert due.received_date == date(2026, 11, 23)
    assert due.received_at == kst(2026, 11, 23, 0, 30)
    assert due.due_date == date(2026, 12, 3)
    assert due.basis[0] == "접수 일시 2026년 11월 23일(월) 00:30 (한국 시각); 입력 2026-11-22T15:30:00+00:00"


def test_one_second_before_korean_midnight_is_still_the_previous_day(cal: KoreanCalendar) -> None:
    due = compute_due(datetime(2026, 11, 22, 14, 59, 59, tzinfo=UTC), ACCESS, cal)
    assert due.received_date == date(2026, 11, 22)
    assert due.due_date == date(2026, 12, 2)


def test_receipt_in_another_zone_is_placed_on_its_korean_date(cal: KoreanCalendar) -> None:
    new_york_evening = datetime(2026, 11, 22, 11, 0, tzinfo=timezone(timedelta(hours=-5)))  # 01:00 KST 23rd
    assert compute_due(new_york_evening, ACCESS, cal).received_date == date(2026, 11, 23)


def test_receipt_at_exactly_midnight_kst_counts_the_receipt_day(cal: KoreanCalendar) -> None:
    due = compute_due(kst(2026, 11, 23, 0, 0), ACCESS, cal)
    assert due.due_date == date(2026, 12, 2)  # 23 Nov is day 1
    assert (
        due.basis[1]
        == "접수 시각이 0시 정각이므로 접수일 2026년 11월 23일(월)부터 기간에 산입 (민법 제157조 단서)"
    )
    assert due_of(datetime(2026, 11, 22, 15, 0, tzinfo=UTC), cal) == date(2026, 12, 2)  # same instant in UTC


def test_one_microsecond_after_midnight_is_not_the_start_of_the_day(cal: KoreanCalendar) -> None:
    assert due_of(datetime(2026, 11, 23, 0, 0, 0, 1, tzinfo=KST), cal) == date(2026, 12, 3)


def test_naive_receipt_time_is_refused_with_a_clear_message(cal: KoreanCalendar) -> None:
    with pytest.raises(InvalidInput, match="no timezone") as info:
        compute_due(datetime(2026, 11, 23, 10, 0), ACCESS, cal)
    assert "aware datetime" in info.value.message
    assert info.value.code == "invalid_input"


# --- rules per right ---


@pytest.mark.parametrize(
    ("right", "days", "statutory", "max_ext", "basis"),
    [
        (Right.ACCESS, 10, True, 0, "개인정보 보호법 제35조, 시행령 제41조"),
        (Right.RECTIFICATION, 10, True, 0, "개인정보 보호법 제36조, 시행령 제43조"),
        (Right.ERASURE, 10, True, 0, "개인정보 보호법 제36조, 시행령 제43조"),
        (Right.SUSPENSION, 10, True, 0, "개인정보 보호법 제37조, 시행령 제44조"),
        (Right.AUTOMATED_DECISION, 30, True, 2, "개인정보 보호법 제37조의2, 시행령 제44조의3"),
        (Right.WITHDRAWAL, 10, False, 0, "개인정보 보호법 제37조"),
        (Right.PORTABILITY, 10, False, 0, "개인정보 보호법 제35조의2"),
    ],
)
def test_each_right_has_its_period_and_legal_basis(
    right: Right, days: int, statutory: bool, max_ext: int, basis: str
) -> None:
    rules = rules_for(right)
    assert (rules.days, rules.statutory, rules.max_extensions, rules.counting) == (
        days,
        statutory,
        max_ext,
        "civil",
    )
    assert rules.legal_basis.startswith(basis)


def test_without_delay_rights_use_the_configured_internal_target() -> None:
    rules = rules_for(Right.WITHDRAWAL, internal_days_without_delay=3)
    assert rules.days == 3 and not rules.statutory
    assert "지체 없이" in rules.legal_basis
    assert rules_for(Right.ACCESS, internal_days_without_delay=3).days == 10


def test_internal_target_is_labelled_as_not_statutory(cal: KoreanCalendar) -> None:
    due = compute_due(kst(2026, 11, 23), rules_for(Right.PORTABILITY), cal)
    assert not due.statutory
    assert due.basis[2].startswith("내부 목표 기한(법정 기한 아님")
    assert due.as_dict()["label"].startswith("내부 목표 기한")
    assert compute_due(kst(2026, 11, 23), ACCESS, cal).as_dict()["label"] == "법정 처리기간"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0, "statutory": True}, "at least 1"),
        ({"days": -3, "statutory": True}, "whole number"),
        ({"days": 10, "statutory": True, "counting": "business"}, "counting must be one of"),
        ({"days": 5, "statutory": False, "counting": "civil_petitions"}, "6 days or more"),
        ({"days": 30, "statutory": True, "max_extensions": 2}, "max_extension_days"),
    ],
)
def test_inconsistent_clock_rules_are_refused_when_built(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ClockRules(**kwargs)  # type: ignore[arg-type]


# --- 민원처리법 counting switch ---


def test_civil_petitions_counts_the_first_day_and_skips_weekends(cal: KoreanCalendar) -> None:
    # Mon 23 Nov is day 1; 28/29 Nov are not counted; day 10 is Fri 4 Dec (civil counting gives 3 Dec).
    due = compute_due(kst(2026, 11, 23), PETITIONS, cal)
    assert due.due_date == date(2026, 12, 4)
    assert due.as_dict()["counting"] == "civil_petitions"
    assert "민원 처리에 관한 법률 제19조제2항" in due.basis[1] and "미확인" in due.basis[1]
    assert "산입하지 않은 날 2일: 11월 28일(토), 11월 29일(일)" in due.basis


def test_civil_petitions_skips_public_holidays_inside_the_period(cal: KoreanCalendar) -> None:
    # 2026-09-21 (Mon): 21,22,23 counted; 24-27 (추석, weekend) not; 28,29,30, 10/1, 10/2 counted = 8;
    # 10/3-4 weekend, 10/5 개천절 대체, 10/6 and 10/7 → day 10 is 7 Oct.
    assert due_of(kst(2026, 9, 21), cal, PETITIONS) == date(2026, 10, 7)


def test_civil_petitions_receipt_on_a_saturday_starts_counting_on_monday(cal: KoreanCalendar) -> None:
    assert due_of(kst(2026, 11, 21), cal, PETITIONS) == date(2026, 12, 4)


def test_civil_petitions_with_a_period_under_six_days_is_refused() -> None:
    with pytest.raises(InvalidInput, match="6 days or more"):
        rules_for(Right.WITHDRAWAL, internal_days_without_delay=3, counting="civil_petitions")


# --- pauses (보완 요청) ---


def test_closed_pause_adds_the_calendar_days_waited(cal: KoreanCalendar) -> None:
    # Paused Tue 24 Nov 10:00 → Fri 27 Nov 15:00: 25, 26, 27 Nov are not counted.
    pause = Pause(kst(2026, 11, 24), kst(2026, 11, 27, 15), "신분 확인 서류 보완 요청")
    due = compute_due(kst(2026, 11, 23), ACCESS, cal, pauses=[pause])
    assert due.due_date == date(2026, 12, 7)  # 3 Dec + 3 = Sun 6 Dec → Mon 7 Dec
    assert due.paused_days == 3 and not due.provisional
    assert any(
        line.startswith("보완 대기 2026년 11월 24일(화) 10:00 ~ 2026년 11월 27일(금) 15:00")
        for line in due.basis
    )
    assert (
        "2026년 11월 24일(화)부터 10일 + 보완 대기 3일 = 13일째 → 기간 말일 2026년 12월 6일(일)" in due.basis
    )


def test_pause_that_ends_the_same_day_adds_nothing(cal: KoreanCalendar) -> None:
    pause = Pause(kst(2026, 11, 24, 9), kst(2026, 11, 24, 18), "전화 확인")
    due = compute_due(kst(2026, 11, 23), ACCESS, cal, pauses=[pause])
    assert due.due_date == date(2026, 12, 3) and due.paused_days == 0


def test_overlapping_pauses_count_each_day_once(cal: KoreanCalendar) -> None:
    pauses = [
        Pause(kst(2026, 11, 24), kst(2026, 11, 27), "서류 보완"),
        Pause(kst(2026, 11, 26), kst(2026, 11, 28), "추가 서류 보완"),
    ]
    due = compute_due(kst(2026, 11, 23), ACCESS, cal, pauses=pauses)
    assert due.paused_days == 4  # 25, 26, 27, 28 Nov
    assert due.due_date == date(2026, 12, 7)


def test_open_pause_is_measured_to_as_of_and_marks_the_due_date_provisional(cal: KoreanCalendar) -> None:
    pause = Pause(kst(2026, 11, 24), None, "위임장 보완 요청")
    due = compute_due(kst(2026, 11, 23), ACCESS, cal, pauses=[pause], as_of=kst(2026, 11, 26, 9))
    assert due.paused_days == 2 and due.provisional
    assert due.due_date == date(2026, 12, 7)  # 3 Dec + 2 = Sat 5 Dec → Mon 7 Dec
    later = compute_due(kst(2026, 11, 23), ACCESS, cal, pauses=[pause], as_of=kst(2026, 11, 30, 9))
    assert later.paused_days == 6 and later.due_date == date(2026, 12, 9)
    assert later.as_dict()["provisional"] is True


def test_open_pause_without_as_of_is_refused(cal: KoreanCalendar) -> None:
    with pytest.raises(InvalidInput, match="as_of"):
        compute_due(kst(2026, 11, 23), ACCESS, cal, pauses=[Pause(kst(2026, 11, 24), None, "보완")])


def test_pause_before_receipt_is_refused(cal: KoreanCalendar) -> None:
    with pytest.raises(InvalidInput, match="before the request was received"):
        compute_due(kst(2026, 11, 23), ACCESS, cal, pauses=[Pause(kst(2026, 11, 22), kst(2026, 11, 24), "x")])


def test_pause_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput, match="before it starts"):
        Pause(kst(2026, 11, 24), kst(2026, 11, 23), "x")


@pytest.mark.parametrize("reason", ["", "   "])
def test_pause_without_a_reason_is_refused(reason: str) -> None:
    with pytest.raises(InvalidInput, match="reason"):
        Pause(kst(2026, 11, 24), None, reason)


def test_naive_pause_times_are_refused() -> None:
    with pytest.raises(InvalidInput, match="no timezone"):
        Pause(datetime(2026, 11, 24, 10), None, "x")


def test_pause_starting_after_the_deadline_does_not_revive_it(cal: KoreanCalendar) -> None:
    pause = Pause(kst(2026, 12, 4), kst(2026, 12, 10), "기한 경과 후 보완 요청")
    due = compute_due(kst(2026, 11, 23), ACCESS, cal, pauses=[pause])
    assert due.due_date == date(2026, 12, 3) and due.paused_days == 0
    assert any(
        "기한 2026년 12월 3일(목)이 지난 뒤 시작되어 기간에 반영하지 않음" in line for line in due.basis
    )


def test_pause_on_a_day_gained_by_article_161_still_counts(cal: KoreanCalendar) -> None:
    # The period runs to Mon 28 Dec (161); a pause begun that Monday is within it and stretches it.
    pause = Pause(kst(2026, 12, 28, 9), kst(2026, 12, 30, 9), "서류 보완")
    due = compute_due(kst(2026, 12, 16), ACCESS, cal, pauses=[pause])
    assert due.paused_days == 2
    assert due.due_date == date(2026, 12, 28)  # 26 Dec + 2 = Mon 28 Dec, an open day


def test_civil_petitions_pause_days_are_not_counted_as_working_days(cal: KoreanCalendar) -> None:
    pause = Pause(kst(2026, 11, 24), kst(2026, 11, 26), "서류 보완")  # 25, 26 Nov not counted
    due = compute_due(kst(2026, 11, 23), PETITIONS, cal, pauses=[pause])
    assert due.due_date == date(2026, 12, 8)
    assert any("11월 25일(수) 보완 대기" in line for line in due.basis)


# --- extensions (자동화된 결정) ---


def test_automated_decision_has_thirty_days(cal: KoreanCalendar) -> None:
    assert due_of(kst(2026, 11, 23), cal, AUTOMATED) == date(2026, 12, 23)


def test_automated_decision_extensions_add_to_the_period_before_article_161(cal: KoreanCalendar) -> None:
    one = compute_due(kst(2026, 11, 23), AUTOMATED, cal, extensions=[Extension(30, "외부 전문가 검토")])
    assert one.due_date == date(2027, 1, 22) and one.extension_days == 30
    two = compute_due(
        kst(2026, 11, 23), AUTOMATED, cal, extensions=[Extension(30, "외부 검토"), Extension(30, "재검토")]
    )
    assert two.due_date == date(2027, 2, 22)  # day 90 is Sun 21 Feb 2027
    assert "연장 2회차 30일 (사유: 재검토; 최대 2회, 회당 30일 이내)" in two.basis
    assert "2026년 11월 24일(화)부터 30일 + 연장 60일 = 90일째 → 기간 말일 2027년 2월 21일(일)" in two.basis


def test_third_extension_is_refused(cal: KoreanCalendar) -> None:
    with pytest.raises(InvalidInput, match="at most 2") as info:
        compute_due(kst(2026, 11, 23), AUTOMATED, cal, extensions=[Extension(10, "검토")] * 3)
    assert info.value.context["max_extensions"] == 2


def test_extension_longer_than_thirty_days_is_refused(cal: KoreanCalendar) -> None:
    with pytest.raises(InvalidInput, match="at most 30 days"):
        compute_due(kst(2026, 11, 23), AUTOMATED, cal, extensions=[Extension(31, "검토")])


def test_rights_without_extensions_refuse_one(cal: KoreanCalendar) -> None:
    with pytest.raises(InvalidInput, match="allows none"):
        compute_due(kst(2026, 11, 23), ACCESS, cal, extensions=[Extension(5, "바쁨")])


@pytest.mark.parametrize(("days", "reason"), [(0, "검토"), (10, " ")])
def test_empty_extensions_are_refused(days: int, reason: str) -> None:
    with pytest.raises(InvalidInput, match="extension"):
        Extension(days, reason)


def test_extensions_and_pauses_combine(cal: KoreanCalendar) -> None:
    due = compute_due(
        kst(2026, 11, 23),
        AUTOMATED,
        cal,
        extensions=[Extension(10, "검토")],
        pauses=[Pause(kst(2026, 11, 25), kst(2026, 11, 30), "서류 보완")],
    )
    # 23 Nov + 30 + 10 + 5 paused = 7 Jan 2027 (Thu).
    assert (due.extension_days, due.paused_days, due.due_date) == (10, 5, date(2027, 1, 7))


# --- output ---


def test_as_dict_is_json_ready_and_complete(cal: KoreanCalendar) -> None:
    data = compute_due(datetime(2026, 12, 16, 1, 0, tzinfo=UTC), ACCESS, cal).as_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["received_at"] == "2026-12-16T10:00:00+09:00"
    assert data["received_date"] == "2026-12-16"
    assert data["due"] == "2026-12-28"
    assert data["ends_at"] == "2026-12-29T00:00:00+09:00"
    assert (data["days"], data["statutory"], data["counting"]) == (10, True, "civil")
    assert data["legal_basis"] == "개인정보 보호법 제35조, 시행령 제41조"
    assert data["basis"][-1] == "기한: 2026년 12월 28일(월) 24:00까지 (민법 제159조)"


def test_due_is_overdue_only_after_the_end_of_the_last_day(cal: KoreanCalendar) -> None:
    due = compute_due(kst(2026, 11, 23), ACCESS, cal)
    assert not due.is_overdue(kst(2026, 12, 3, 23, 59))
    assert due.is_overdue(kst(2026, 12, 4, 0, 0))
    assert due.is_overdue(datetime(2026, 12, 3, 15, 0, tzinfo=UTC))  # 00:00 KST on 4 Dec


def test_due_is_immutable_and_hashable(cal: KoreanCalendar) -> None:
    due = compute_due(kst(2026, 11, 23), ACCESS, cal)
    with pytest.raises(AttributeError):
        due.due_date = date(2027, 1, 1)  # type: ignore[misc]
    assert isinstance(hash(due), int) and isinstance(due, Due)


@pytest.mark.parametrize(
    ("today", "left"), [(date(2026, 11, 30), 3), (date(2026, 12, 3), 0), (date(2026, 12, 5), -2)]
)
def test_days_left_gives_d_day_counts(today: date, left: int) -> None:
    assert days_left(date(2026, 12, 3), today) == left


def test_days_left_reads_an_aware_instant_on_its_korean_date() -> None:
    assert days_left(date(2026, 12, 3), datetime(2026, 12, 2, 15, 30, tzinfo=UTC)) == 0


def test_compute_due_is_fast_once_the_year_is_cached(cal: KoreanCalendar) -> None:
    import time as clock_time

    compute_due(kst(2026, 12, 16), ACCESS, cal)
    n = 2000
    start = clock_time.perf_counter()
    for _ in range(n):
        compute_due(kst(2026, 12, 16), ACCESS, cal)
    per_call = (clock_time.perf_counter() - start) / n
    assert per_call < 500e-6, f"{per_call * 1e6:.0f} µs per call"
