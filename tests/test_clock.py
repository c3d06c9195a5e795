"""Clocks: code asks a Clock for the time, so tests move time by hand instead of patching datetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dsar.clock import Clock, FixedClock, SystemClock
from dsar.errors import InvalidInput

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_system_clock_tells_aware_utc_time() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert abs(datetime.now(UTC) - now) < timedelta(seconds=5)


def test_both_clocks_satisfy_the_clock_protocol() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FixedClock(START), Clock)


def test_fixed_clock_stands_still_until_moved() -> None:
    clock = FixedClock(START)
    assert clock.now() == START
    assert clock.now() == START


def test_fixed_clock_reports_in_utc_whatever_zone_it_was_set_in() -> None:
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=9))))
    assert clock.now() == datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)


def test_fixed_clock_advances_by_delta_or_by_keywords() -> None:
    clock = FixedClock(START)
    assert clock.advance(timedelta(hours=1)) == START + timedelta(hours=1)
    assert clock.advance(days=2, minutes=30) == START + timedelta(days=2, hours=1, minutes=30)
    assert clock.now() == START + timedelta(days=2, hours=1, minutes=30)


def test_fixed_clock_refuses_to_advance_backwards() -> None:
    clock = FixedClock(START)
    with pytest.raises(InvalidInput, match="use set"):
        clock.advance(days=-1)
    assert clock.now() == START


def test_fixed_clock_can_be_set_to_any_instant_including_the_past() -> None:
    clock = FixedClock(START)
    clock.set(START - timedelta(days=30))
    assert clock.now() == START - timedelta(days=30)


def test_fixed_clock_refuses_naive_datetimes() -> None:
    with pytest.raises(InvalidInput, match="no timezone"):
        FixedClock(datetime(2026, 11, 23, 9, 0))
    clock = FixedClock(START)
    with pytest.raises(InvalidInput, match="no timezone"):
        clock.set(datetime(2026, 11, 23, 9, 0))
