"""The Korean holiday calendar: which days are 공휴일 and which days a period cannot end on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest

from dsar.calendar_kr import (
    KST,
    OPERATOR_HOLIDAY_NAME,
    KoreanCalendar,
    korean_date,
    korean_date_weekday,
    kst_date,
)
from dsar.errors import InvalidInput


@pytest.fixture(scope="module")
def cal() -> KoreanCalendar:
    return KoreanCalendar()


@pytest.mark.parametrize(
    ("day", "name_part"),
    [
        (date(2026, 2, 16), "설날 전날"),
        (date(2026, 2, 17), "설날"),
        (date(2026, 2, 18), "설날 다음날"),
        (date(2026, 9, 24), "추석 전날"),
        (date(2026, 9, 25), "추석"),
        (date(2026, 9, 26), "추석 다음날"),
        (date(2025, 10, 8), "추석 대체 휴일"),
        (date(2025, 3, 3), "삼일절 대체 휴일"),
        (date(2026, 8, 17), "광복절 대체 휴일"),
        (date(2026, 12, 25), "기독탄신일"),
        (date(2027, 1, 1), "신정"),
        (date(2024, 4, 10), "국회의원 선거일"),
        (date(2025, 6, 3), "대통령 선거일"),
        (date(2026, 6, 3), "지방선거일"),
        (date(2025, 1, 27), "임시공휴일"),
        (date(2026, 5, 1), "노동절"),
        (date(2026, 7, 17), "제헌절"),
    ],
)
def test_public_holidays_from_the_package_are_holidays_with_korean_names(
    cal: KoreanCalendar, day: date, name_part: str
) -> None:
    assert cal.is_holiday(day)
    assert cal.is_closed(day)
    name = cal.holiday_name(day)
    assert name is not None and name_part in name


def test_plain_sunday_is_a_holiday_named_sunday(cal: KoreanCalendar) -> None:
    sunday = date(2026, 11, 29)
    assert cal.is_holiday(sunday) and cal.is_closed(sunday)
    assert cal.holiday_name(sunday) == "일요일"


def test_saturday_closes_a_period_but_is_not_a_holiday(cal: KoreanCalendar) -> None:
    saturday = date(2026, 11, 28)
    assert cal.is_closed(saturday)
    assert not cal.is_holiday(saturday)
    assert cal.holiday_name(saturday) is None


def test_ordinary_weekday_is_open_and_unnamed(cal: KoreanCalendar) -> None:
    monday = date(2026, 11, 23)
    assert not cal.is_holiday(monday) and not cal.is_closed(monday)
    assert cal.holiday_name(monday) is None


def test_workers_day_before_2026_was_not_a_public_holiday(cal: KoreanCalendar) -> None:
    # 근로자의 날 was a paid day off under labour law, not a 공휴일, until 노동절 became one in 2026.
    assert not cal.is_holiday(date(2025, 5, 1))
    assert not cal.is_holiday(date(2025, 7, 17))  # 제헌절 was not a 공휴일 between 2008 and 2025


def test_holiday_name_is_none_exactly_when_the_day_is_not_a_holiday(cal: KoreanCalendar) -> None:
    d = date(2026, 1, 1)
    while d.year == 2026:
        assert (cal.holiday_name(d) is not None) == cal.is_holiday(d)
        assert cal.is_closed(d) == (d.weekday() == 5 or cal.is_holiday(d))
        d += timedelta(days=1)


def test_operator_date_becomes_a_holiday_labelled_as_operator_set() -> None:
    extra = date(2026, 12, 3)
    assert not KoreanCalendar().is_holiday(extra)
    cal = KoreanCalendar(extra_holidays=[extra])
    assert cal.is_holiday(extra) and cal.is_closed(extra)
    assert cal.holiday_name(extra) == OPERATOR_HOLIDAY_NAME == "임시공휴일(운영자 지정)"


def test_operator_dates_can_carry_their_own_names() -> None:
    cal = KoreanCalendar(extra_holidays={date(2026, 4, 8): "재보궐선거일(운영자 지정)"})
    assert cal.holiday_name(date(2026, 4, 8)) == "재보궐선거일(운영자 지정)"


def test_operator_date_the_package_already_has_keeps_the_package_name() -> None:
    # 2025-01-27 was declared after the fact; the installed package already carries it.
    cal = KoreanCalendar(extra_holidays=[date(2025, 1, 27)])
    assert cal.holiday_name(date(2025, 1, 27)) == "임시공휴일"


def test_public_holidays_lists_package_and_operator_dates_in_order() -> None:
    cal = KoreanCalendar(extra_holidays=[date(2026, 12, 3)])
    listed = cal.public_holidays(2026)
    assert list(listed) == sorted(listed)
    assert listed[date(2026, 12, 3)] == OPERATOR_HOLIDAY_NAME
    assert set(listed) - {date(2026, 12, 3)} == set(holidays.country_holidays("KR", years=2026))


@pytest.mark.parametrize("bad", [datetime(2026, 12, 3, tzinfo=UTC), "2026-12-03"])
def test_operator_dates_must_be_plain_dates(bad: object) -> None:
    with pytest.raises(InvalidInput, match="must be a date"):
        KoreanCalendar(extra_holidays=[bad])  # type: ignore[list-item]


def test_operator_date_with_blank_name_is_refused() -> None:
    with pytest.raises(InvalidInput, match="non-empty name"):
        KoreanCalendar(extra_holidays={date(2026, 12, 3): "  "})


@pytest.mark.parametrize("year", [1900, 2101])
def test_years_the_package_cannot_cover_are_refused_not_treated_as_holiday_free(year: int) -> None:
    with pytest.raises(InvalidInput, match="covers 1948–2100"):
        KoreanCalendar().is_closed(date(year, 3, 3))


def test_each_year_is_built_once_then_served_from_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    real = holidays.country_holidays

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(holidays, "country_holidays", counting)
    cal = KoreanCalendar()
    for offset in range(365):
        cal.is_closed(date(2027, 1, 1) + timedelta(days=offset))
    assert calls == [2027]


def test_kst_date_puts_late_utc_evening_on_the_next_korean_day() -> None:
    assert kst_date(datetime(2026, 11, 22, 15, 30, tzinfo=UTC)) == date(2026, 11, 23)
    assert kst_date(datetime(2026, 11, 22, 14, 59, 59, tzinfo=UTC)) == date(2026, 11, 22)


def test_kst_date_refuses_naive_datetimes() -> None:
    with pytest.raises(InvalidInput, match="no timezone"):
        kst_date(datetime(2026, 11, 22, 15, 30))


def test_korean_date_formats_without_zero_padding() -> None:
    assert korean_date(date(2026, 12, 3)) == "2026년 12월 3일"
    assert korean_date_weekday(date(2026, 12, 3)) == "2026년 12월 3일(목)"
    assert korean_date_weekday(date(2026, 12, 27)) == "2026년 12월 27일(일)"


def test_korean_date_of_an_aware_datetime_uses_the_korean_day() -> None:
    assert korean_date_weekday(datetime(2026, 12, 2, 23, 30, tzinfo=UTC)) == "2026년 12월 3일(목)"
    assert korean_date(datetime(2026, 12, 3, 0, 0, tzinfo=KST)) == "2026년 12월 3일"
