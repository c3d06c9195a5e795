"""Where "now" comes from.

Deadlines, reminders and the scheduler ask a `Clock` for the time instead of calling `datetime.now`, so tests
and simulations move time by hand (`FixedClock`) and never patch the standard library. Processes (Celery beat
and workers) get theirs from `clock_from_settings()`: the real clock, or, when `DSAR_CLOCK_FILE` is set, a
`FileClock` whose time another process moves by rewriting one file.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

from dsar.errors import InvalidInput, ServiceUnavailable
from dsar.settings import get_settings

__all__ = [
    "Clock", "FileClock", "FixedClock", "SystemClock", "clock_from_settings", "require_aware", "write_clock_file",
]


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


class FileClock:
    """Simulated time shared between processes: every `now()` reads the instant written in a file.

    A test runs real Celery beat and worker processes and moves their time by rewriting the file
    (`write_clock_file`, an atomic replace, so a reader never sees half a timestamp).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def now(self) -> datetime:
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ServiceUnavailable(
                f"simulated clock file {self.path} cannot be read ({exc.strerror}): write an ISO-8601 instant "
                "into it, or unset DSAR_CLOCK_FILE to use the real clock"
            ) from exc
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(
                f"simulated clock file {self.path} holds {text[:40]!r}, not an ISO-8601 instant "
                "such as 2026-11-23T10:00:00+09:00", field="clock_file",
            ) from None
        return require_aware(moment, "clock_file").astimezone(UTC)

    def __repr__(self) -> str:
        return f"FileClock({str(self.path)!r})"


def write_clock_file(path: Path, at: datetime) -> None:
    """Set the time a `FileClock` on `path` tells (write a sibling file, then rename it over the old one)."""
    moment = require_aware(at, "at").astimezone(UTC)
    tmp = Path(f"{path}.{os.getpid()}.tmp")
    tmp.write_text(moment.isoformat(), encoding="utf-8")
    os.replace(tmp, path)


def clock_from_settings() -> Clock:
    """The clock a process should use: `FileClock` when `DSAR_CLOCK_FILE` is set, the real clock otherwise."""
    path = get_settings().clock_file
    return FileClock(path) if path is not None and str(path) not in ("", ".") else SystemClock()
