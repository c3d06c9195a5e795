"""The Korean calendar the legal clock runs on: which days are 공휴일 and which days close a period.

민법 제161조 moves a period's last day off Saturdays and 공휴일. 공휴일 are Sundays plus the public
holidays of the 공휴일에 관한 법률 / 관공서의 공휴일에 관한 규정, which the `holidays` package computes
(lunar 설날·추석, 대체공휴일, election days by 공직선거법 제34조). Ad-hoc 임시공휴일 and by-elections reach
the package only after a release, so the operator can add dates by hand; those are merged in and labelled
as operator-set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

import holidays

from dsar.clock import require_aware
from dsar.errors import InvalidInput

__all__ = [
    "KST",
    "OPERATOR_HOLIDAY_NAME",
    "KoreanCalendar",
    "kst_date",
    "korean_date",
    "korean_date_weekday",
]

KST = ZoneInfo("Asia/Seoul")
OPERATOR_HOLIDAY_NAME = "임시공휴일(운영자 지정)"
SUNDAY_NAME = "일요일"
WEEKDAYS_KO = "월화수목금토일"
# The package knows Korean holidays only for these years and returns an empty calendar outside them;
# refusing is better than silently counting a year without 설날 or 추석.
_FIRST_YEAR: int = getattr(holidays.KR, "start_year", 1948)
_LAST_YEAR: int = getattr(holidays.KR, "end_year", 2100)


class KoreanCalendar:
    """Public holidays of the Republic of Korea plus operator-added dates, cached per year.

    `extra_holidays` takes dates (named "임시공휴일(운영자 지정)") or a mapping date → name, e.g.
    `{date(2026, 4, 1): "재보궐선거일(운영자 지정)"}`. A date the package already knows keeps the
    package's name.
    """

    def __init__(self, extra_holidays: Iterable[date] | Mapping[date, str] = ()) -> None:
        if isinstance(extra_holidays, Mapping):
            pairs = list(extra_holidays.items())
        else:
            pairs = [(d, OPERATOR_HOLIDAY_NAME) for d in extra_holidays]
        self._extra: dict[date, str] = {}
        for d, name in pairs:
            if isinstance(d, datetime) or not isinstance(d, date):
                raise InvalidInput(
                    f"extra holiday {d!r} must be a date (YYYY-MM-DD), not a {type(d).__name__}", value=str(d)
                )
            if not isinstance(name, str) or not name.strip():
                raise InvalidInput(
                    f"extra holiday {d.isoformat()} needs a non-empty name", value=d.isoformat()
                )
            self._extra[d] = name.strip()
        self._years: dict[int, dict[date, str]] = {}

    @property
    def extra_holidays(self) -> Mapping[date, str]:
        """The operator-added dates, as given."""
        return dict(self._extra)

    def _year(self, year: int) -> dict[date, str]:
        """Public holidays of one year (no Sundays), built once; later lookups are a dict access."""
        table = self._years.get(year)
        if table is None:
            if not _FIRST_YEAR <= year <= _LAST_YEAR:
                raise InvalidInput(
                    f"the holiday calendar covers {_FIRST_YEAR}–{_LAST_YEAR} only; {year} is outside it, so "
                    "no deadline can be computed for that year",
                    year=year,
                )
            package = holidays.country_holidays("KR", years=year, language="ko")
            table = {d: name for d, name in package.items()}
            for d, name in self._extra.items():
                if d.year == year:
                    table.setdefault(d, name)
            self._years[year] = table
        return table

    def public_holidays(self, year: int) -> dict[date, str]:
        """Named public holidays of `year` (package + operator dates, Sundays not listed), in date order."""
        return dict(sorted(self._year(year).items()))

    def is_holiday(self, d: date) -> bool:
        """공휴일: a Sunday, a public holiday, or an operator-added date."""
        return d in self._year(d.year) or d.weekday() == 6

    def is_closed(self, d: date) -> bool:
        """A day on which a period cannot end (민법 제161조): Saturday or 공휴일."""
        return d in self._year(d.year) or d.weekday() >= 5

    def holiday_name(self, d: date) -> str | None:
        """Why `d` is a 공휴일 ("추석", "일요일", "임시공휴일(운영자 지정)"), or None when it is not one."""
        name = self._year(d.year).get(d)
        if name is not None:
            return name
        return SUNDAY_NAME if d.weekday() == 6 else None

    def __repr__(self) -> str:
        return f"KoreanCalendar(extra_holidays={sorted(self._extra)!r})"


def kst_date(moment: datetime) -> date:
    """The Korean calendar date of an aware instant (23:30 UTC is already the next day in Seoul)."""
    return require_aware(moment, "moment").astimezone(KST).date()


def _as_date(d: date | datetime) -> date:
    return kst_date(d) if isinstance(d, datetime) else d


def korean_date(d: date | datetime) -> str:
    """ "2026년 12월 3일"; an aware datetime is first put on its Korean date."""
    d = _as_date(d)
    return f"{d.year}년 {d.month}월 {d.day}일"


def korean_date_weekday(d: date | datetime) -> str:
    """ "2026년 12월 3일(목)": the form used in notices and in the arithmetic shown to staff."""
    d = _as_date(d)
    return f"{d.year}년 {d.month}월 {d.day}일({WEEKDAYS_KO[d.weekday()]})"
