"""Where "now" comes from.

Deadlines, reminders and the scheduler ask a `Clock` for the time instead of calling `datetime.now`, so tests
and simulations move time by hand (`FixedClock`) and never patch the standard library.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from dsar.errors import InvalidInput

__all__ = ["Clock", "FixedClock", "SystemClock", "require_aware"]


@runtime_checkable
class Clock(Protocol):
    """Anything that can tell the current instant as a timezone-aware UTC datetime."""

    def now(self) -> datetime: ...


def require_aware(moment: datetime, what: str = "datetime") -> datetime:
    """Refuse naive datetimes: a wall-clock time without a zone cannot be placed on a Korean date."""
    if not isinstance(moment, datetime):
        raise InvalidInput(f"{what} must be a datetime, got {type(moment).__name__}", field=what)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(
            f"{what} {moment.isoformat()} has no timezone; pass an aware datetime "
            "(e.g. with tzinfo=ZoneInfo('Asia/Seoul') or datetime.UTC)",
            field=what,
        )
    return moment


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that only moves when told to: for tests, replays and simulated scheduler runs."""

    def __init__(self, at: datetime) -> None:
        self._now = require_aware(at, "at").astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        """Jump to any instant, backwards included (replaying a history)."""
        self._now = require_aware(at, "at").astimezone(UTC)

    def advance(
        self,
        delta: timedelta | None = None,
        *,
        days: float = 0,
        hours: float = 0,
        minutes: float = 0,
        seconds: float = 0,
    ) -> datetime:
        """Move forward and return the new time; going back is `set`'s job, so a negative step is refused."""
        step = (delta or timedelta()) + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        if step < timedelta():
            raise InvalidInput(
                f"advance() only moves forward (got {step}); use set() to go back", step=str(step)
            )
        self._now += step
        return self._now

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"
