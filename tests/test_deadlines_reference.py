"""compute_due against an independent reference that walks the calendar one day at a time.

The reference shares no code with dsar: it builds its own closed-day set straight from the `holidays`
package, converts to Korean time by plain offset arithmetic (Korea has kept UTC+9 without DST since 1988),
and counts days by stepping through them, which is slow but obviously right.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from dsar.deadlines import Extension, KoreanCalendar, Pause, compute_due, rules_for
from dsar.rights import Right

ONE_DAY = timedelta(days=1)
FIRST, LAST = date(2024, 1, 1), date(2030, 12, 31)
REF_HOLIDAYS = frozenset(holidays.country_holidays("KR", years=range(2023, 2033)))
CAL = KoreanCalendar()


def ref_closed(d: date) -> bool:
    """민법 161: Saturday, Sunday or a public holiday."""
    return d.weekday() in (5, 6) or d in REF_HOLIDAYS


def ref_korean_wall_clock(moment: datetime) -> datetime:
    """The naive Korean wall-clock time of an aware instant."""
    offset = moment.utcoffset()
    assert offset is not None
    return moment.replace(tzinfo=None) - offset + timedelta(hours=9)


def ref_civil_due(received: datetime, days: int, paused: frozenset[date] = frozenset()) -> date:
    wall = ref_korean_wall_clock(received)
    day = wall.date() if wall.time() == time(0) else wall.date() + ONE_DAY
    counted = 0
    while True:
        if day not in paused:
            counted += 1
            if counted == days:
                break
        day += ONE_DAY
    while ref_closed(day):
        day += ONE_DAY
    return day


def ref_petitions_due(received: datetime, days: int, paused: frozenset[date] = frozenset()) -> date:
    day = ref_korean_wall_clock(received).date()
    counted = 0
    while True:
        if not ref_closed(day) and day not in paused:
            counted += 1
            if counted == days:
                return day
        day += ONE_DAY


def every_day() -> list[date]:
    days, d = [], FIRST
    while d <= LAST:
        days.append(d)
        d += ONE_DAY
    return days


KST = timezone(timedelta(hours=9))  # deliberately not the ZoneInfo the code uses


def test_every_day_2024_to_2030_for_every_right_matches_the_reference() -> None:
    civil = [rules_for(r) for r in Right]
    petitions = [rules_for(r, counting="civil_petitions") for r in Right]
    for day in every_day():
        afternoon = datetime.combine(day, time(15, 20), KST)
        midnight = datetime.combine(day, time(0), KST)
        for rules in civil:
            assert compute_due(afternoon, rules, CAL).due_date == ref_civil_due(afternoon, rules.days), day
            assert compute_due(midnight, rules, CAL).due_date == ref_civil_due(midnight, rules.days), day
        for rules in petitions:
            assert compute_due(afternoon, rules, CAL).due_date == ref_petitions_due(afternoon, rules.days), (
                day
            )


def test_due_dates_never_fall_on_closed_days_and_never_move_backwards() -> None:
    rules = rules_for(Right.ACCESS)
    previous = date.min
    for day in every_day():
        due = compute_due(datetime.combine(day, time(12), KST), rules, CAL).due_date
        assert not ref_closed(due)
        assert due >= day + timedelta(days=10)
        assert due >= previous  # a later request is never due earlier
        previous = due


offsets = st.integers(min_value=-12 * 4, max_value=14 * 4).map(lambda q: timezone(timedelta(minutes=15 * q)))
named_zones = st.sampled_from(
    [ZoneInfo(z) for z in ("Asia/Seoul", "UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe")]
)
instants = st.datetimes(
    min_value=datetime(2024, 1, 2),
    max_value=datetime(2030, 12, 30),
    timezones=st.one_of(offsets, named_zones),
)
midnights = st.dates(min_value=FIRST, max_value=LAST).map(lambda d: datetime.combine(d, time(0), KST))
rights = st.sampled_from(list(Right))


@settings(max_examples=300, deadline=None)
@given(received=st.one_of(instants, midnights), right=rights, internal=st.integers(min_value=1, max_value=40))
def test_any_instant_in_any_zone_matches_the_reference(
    received: datetime, right: Right, internal: int
) -> None:
    rules = rules_for(right, internal_days_without_delay=internal)
    due = compute_due(received, rules, CAL)
    assert due.received_date == ref_korean_wall_clock(received).date()
    assert due.due_date == ref_civil_due(received, rules.days)
    assert due.basis[-1].startswith("기한: ")


@settings(max_examples=200, deadline=None)
@given(received=instants, right=rights, internal=st.integers(min_value=6, max_value=40))
def test_civil_petitions_matches_the_reference(received: datetime, right: Right, internal: int) -> None:
    rules = rules_for(right, internal_days_without_delay=internal, counting="civil_petitions")
    assert compute_due(received, rules, CAL).due_date == ref_petitions_due(received, rules.days)


@settings(max_examples=200, deadline=None)
@given(
    received=instants,
    first=st.integers(min_value=0, max_value=29),
    second=st.integers(min_value=0, max_value=29),
    count=st.integers(min_value=0, max_value=2),
)
def test_extensions_match_the_reference_with_a_longer_period(
    received: datetime, first: int, second: int, count: int
) -> None:
    extensions = [Extension(n + 1, "검토") for n in (first, second)][:count]
    rules = rules_for(Right.AUTOMATED_DECISION)
    due = compute_due(received, rules, CAL, extensions=extensions)
    assert due.due_date == ref_civil_due(received, 30 + sum(e.days for e in extensions))


@settings(max_examples=300, deadline=None)
@given(
    received=instants,
    start_after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=8, hours=23)),
    length=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=25)),
    petitions=st.booleans(),
)
def test_a_pause_inside_the_period_stops_the_clock_for_its_days(
    received: datetime, start_after: timedelta, length: timedelta, petitions: bool
) -> None:
    # The reference treats paused days as days that do not count. That agrees with "add the paused days"
    # for a pause starting before the last counted day, which start_after < 9 days guarantees.
    rules = rules_for(Right.ACCESS, counting="civil_petitions" if petitions else "civil")
    # Absolute arithmetic: adding to a ZoneInfo datetime moves the wall clock, which can cross a DST change.
    start = received.astimezone(UTC) + start_after
    end = start + length
    start_day, end_day = ref_korean_wall_clock(start).date(), ref_korean_wall_clock(end).date()
    paused = frozenset(start_day + ONE_DAY * i for i in range(1, (end_day - start_day).days + 1))
    expected = (ref_petitions_due if petitions else ref_civil_due)(received, 10, paused)
    due = compute_due(received, rules, CAL, pauses=[Pause(start, end, "서류 보완")])
    assert due.due_date == expected
    assert due.paused_days == len(paused)


@settings(max_examples=100, deadline=None)
@given(
    received=instants,
    hours_open=st.integers(min_value=0, max_value=24 * 20),
)
def test_an_open_pause_matches_the_same_pause_closed_at_as_of(received: datetime, hours_open: int) -> None:
    start = received.astimezone(UTC) + timedelta(hours=1)
    as_of = start + timedelta(hours=hours_open)
    rules = rules_for(Right.ACCESS)
    open_due = compute_due(received, rules, CAL, pauses=[Pause(start, None, "보완")], as_of=as_of)
    closed_due = compute_due(received, rules, CAL, pauses=[Pause(start, as_of, "보완")])
    assert open_due.due_date == closed_due.due_date
    assert open_due.provisional and not closed_due.provisional


def test_reference_holiday_set_covers_the_years_tested() -> None:
    assert {d.year for d in REF_HOLIDAYS} >= set(range(2024, 2032))
    assert datetime(2026, 11, 22, 15, 30, tzinfo=UTC).astimezone(KST).date() == date(2026, 11, 23)
