"""The legal clock: when the answer to a data-subject request is due.

개인정보 보호법 sets the periods (10 days for 열람·정정·삭제·처리정지, 30 days for 자동화된 결정) but no
way of counting them, so 민법 applies (민법 제155조):

- 제157조: the day of receipt is not counted, unless the request arrived at exactly 00:00 (KST);
- 제159조: the period ends at the end (24:00) of its last day;
- 제161조: a last day on a Saturday or 공휴일 moves to the next day that is neither.

Days are Korean dates (Asia/Seoul) whatever zone the receipt time was recorded in. Every step of the
arithmetic is written into `Due.basis` in Korean, so staff and auditors can check the date by hand.
`compute_due` is pure: no clock, no I/O; an open pause is measured up to the `as_of` instant the caller gives.

An organisation may also set an internal target (`ClockRules.internal_target_days`, e.g. 7 days): it is counted
the same way (same counting, extensions and pauses), never falls after the legal due date, and is kept apart from
`basis` (`Due.internal_target`, `Due.internal_note`), which the acknowledgement sent to the requester quotes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, get_args

from dsar.calendar_kr import (
    KST,
    SUNDAY_NAME,
    WEEKDAYS_KO,
    KoreanCalendar,
    korean_date,
    korean_date_weekday,
    kst_date,
)
from dsar.clock import require_aware
from dsar.errors import InvalidInput
from dsar.rights import Right

__all__ = [
    "KST",
    "ClockRules",
    "Counting",
    "Due",
    "Extension",
    "KoreanCalendar",
    "Pause",
    "compute_due",
    "days_left",
    "korean_date",
    "korean_date_weekday",
    "rules_for",
]

Counting = Literal["civil", "civil_petitions"]
COUNTINGS: tuple[str, ...] = get_args(Counting)
ONE_DAY = timedelta(days=1)
# 민원처리법 제19조①: periods of 5 days or less are counted in working hours, which is not supported.
PETITIONS_MIN_DAYS = 6

STATUTORY_LABEL = "법정 처리기간"
INTERNAL_LABEL = "내부 목표 기한(법정 기한 아님: 법령은 '지체 없이'만 정함)"


@dataclass(frozen=True)
class ClockRules:
    """How long a request may take and how the days are counted.

    counting:
      - "civil": 민법 제157조·제161조, the rule for 개인정보 보호법 periods (the default).
      - "civil_petitions": 민원 처리에 관한 법률 제19조제2항: the first day counts and Saturdays and 공휴일
        are left out of the count (periods of 6 days or more). Public bodies may be bound by it, but whether
        it governs 개인정보 보호법 requests is *unconfirmed*: a per-workflow switch, off by default.
    statutory=False marks an internal target set by the operator for rights the law only asks to be handled
    "지체 없이"; it is shown as internal, never as a legal deadline.
    internal_target_days: the organisation's own, shorter target beside the due date (None: no target).
    """

    days: int
    statutory: bool
    counting: Counting = "civil"
    max_extensions: int = 0
    max_extension_days: int = 0
    legal_basis: str = ""
    internal_target_days: int | None = None

    def __post_init__(self) -> None:
        for name in ("days", "max_extensions", "max_extension_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidInput(f"ClockRules.{name} must be a whole number ≥ 0, got {value!r}", field=name)
        if self.days < 1:
            raise InvalidInput("ClockRules.days must be at least 1", field="days")
        target = self.internal_target_days
        if target is not None and (not isinstance(target, int) or isinstance(target, bool) or target < 1):
            raise InvalidInput(f"ClockRules.internal_target_days must be a whole number ≥ 1, got {target!r}",
                               field="internal_target_days")
        if self.counting not in COUNTINGS:
            raise InvalidInput(
                f"ClockRules.counting must be one of {', '.join(COUNTINGS)}, got {self.counting!r}",
                field="counting",
            )
        if self.counting == "civil_petitions" and self.days < PETITIONS_MIN_DAYS:
            raise InvalidInput(
                f"civil_petitions counting needs a period of {PETITIONS_MIN_DAYS} days or more "
                f"(민원처리법 제19조① counts shorter periods in working hours, which is not supported); "
                f"got {self.days} days: use counting='civil' or a longer period",
                field="counting",
            )
        if self.max_extensions and not self.max_extension_days:
            raise InvalidInput(
                "ClockRules.max_extension_days must be ≥ 1 when extensions are allowed",
                field="max_extension_days",
            )

    @property
    def label(self) -> str:
        """Korean label saying whether this is a legal deadline or an internal target."""
        return STATUTORY_LABEL if self.statutory else INTERNAL_LABEL


_STATUTORY: dict[Right, tuple[int, int, int, str]] = {
    # right: (days, max_extensions, max_extension_days, legal basis)
    Right.ACCESS: (10, 0, 0, "개인정보 보호법 제35조, 시행령 제41조"),
    Right.RECTIFICATION: (10, 0, 0, "개인정보 보호법 제36조, 시행령 제43조"),
    Right.ERASURE: (10, 0, 0, "개인정보 보호법 제36조, 시행령 제43조"),
    Right.SUSPENSION: (10, 0, 0, "개인정보 보호법 제37조, 시행령 제44조"),
    Right.AUTOMATED_DECISION: (30, 2, 30, "개인정보 보호법 제37조의2, 시행령 제44조의3"),
}
_WITHOUT_DELAY: dict[Right, str] = {
    Right.WITHDRAWAL: "개인정보 보호법 제37조 (지체 없이)",
    Right.PORTABILITY: "개인정보 보호법 제35조의2, 시행령 제42조의6~제42조의8 (지체 없이)",
}


def rules_for(
    right: Right, *, internal_days_without_delay: int = 10, counting: Counting = "civil"
) -> ClockRules:
    """The clock for a right: the statute's period, or an internal target where the law says "지체 없이"."""
    if right in _STATUTORY:
        days, max_ext, max_ext_days, basis = _STATUTORY[right]
        return ClockRules(days, True, counting, max_ext, max_ext_days, basis)
    if right in _WITHOUT_DELAY:
        return ClockRules(internal_days_without_delay, False, counting, legal_basis=_WITHOUT_DELAY[right])
    raise InvalidInput(f"no clock is defined for right {right!r}", right=str(right))


@dataclass(frozen=True)
class Pause:
    """Time spent waiting for the requester (보완 요청); its calendar days are not counted.

    The pause is counted like any period: its first day is not counted, its last day is (KST dates), so a
    pause that starts and ends on the same day adds nothing (the 00:00 exception of 민법 제157조 is not
    applied to pauses). end=None means still waiting.
    """

    start: datetime
    end: datetime | None
    reason: str

    def __post_init__(self) -> None:
        require_aware(self.start, "pause.start")
        if self.end is not None:
            require_aware(self.end, "pause.end")
            if self.end < self.start:
                raise InvalidInput(
                    f"pause ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})",
                    field="pause.end",
                )
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise InvalidInput(
                "a pause needs a reason (e.g. '신분 확인 서류 보완 요청')", field="pause.reason"
            )


@dataclass(frozen=True)
class Extension:
    """An extension of the period (자동화된 결정: twice, up to 30 days each, each with a justified reason)."""

    days: int
    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.days, int) or isinstance(self.days, bool) or self.days < 1:
            raise InvalidInput(
                f"an extension must be at least 1 whole day, got {self.days!r}", field="extension.days"
            )
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise InvalidInput(
                "an extension needs a reason (법 제37조의2 requires a justified one)",
                field="extension.reason",
            )


@dataclass(frozen=True)
class Due:
    """A computed deadline and the arithmetic behind it.

    The answer is due by the end of `due_date` in Korea (`ends_at`, i.e. 00:00 KST of the next day).
    `provisional` is True while a pause is still open: the date then moves one day for each further day
    of waiting. `internal_target` is the organisation's own target date (None when it sets none) and
    `internal_note` how it was counted, for staff only.
    """

    received_at: datetime  # the receipt instant, in KST
    received_date: date
    due_date: date
    rules: ClockRules
    basis: list[str] = field(hash=False)
    statutory: bool
    extension_days: int = 0
    paused_days: int = 0
    provisional: bool = False
    internal_target: date | None = None
    internal_note: str | None = None

    @property
    def ends_at(self) -> datetime:
        """The instant the period runs out (민법 제159조: end of the last day), aware, KST."""
        return datetime.combine(self.due_date + ONE_DAY, time(0), KST)

    def is_overdue(self, now: datetime) -> bool:
        """True once `now` is past the end of the due date."""
        return require_aware(now, "now") >= self.ends_at

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the API, notices and the audit log."""
        return {
            "received_at": self.received_at.isoformat(),
            "received_date": self.received_date.isoformat(),
            "due": self.due_date.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "days": self.rules.days,
            "extension_days": self.extension_days,
            "paused_days": self.paused_days,
            "statutory": self.statutory,
            "label": self.rules.label,
            "counting": self.rules.counting,
            "provisional": self.provisional,
            "basis": list(self.basis),
            "legal_basis": self.rules.legal_basis,
            "internal_target": self.internal_target.isoformat() if self.internal_target else None,
            "internal_target_days": self.rules.internal_target_days,
            "internal_note": self.internal_note,
        }


def _moment(moment: datetime) -> str:
    local = moment.astimezone(KST)
    return f"{korean_date_weekday(local)} {local:%H:%M}"


def _short(d: date, calendar: KoreanCalendar) -> str:
    name = calendar.holiday_name(d)
    named = f", {name}" if name and name != SUNDAY_NAME else ""
    return f"{d.month}월 {d.day}일({WEEKDAYS_KO[d.weekday()]}{named})"


def _closed_reason(d: date, calendar: KoreanCalendar) -> str:
    name = calendar.holiday_name(d)
    if d.weekday() == 5:
        return f"토요일·공휴일({name})" if name else "토요일"
    return f"공휴일({name})"


def _roll(d: date, calendar: KoreanCalendar, lines: list[str] | None = None) -> date:
    """민법 제161조: step past Saturdays and 공휴일, noting each step when `lines` is given."""
    first = True
    while calendar.is_closed(d):
        if lines is not None:
            prefix = "기간 말일 " if first else ""
            reason = _closed_reason(d, calendar)
            lines.append(f"{prefix}{korean_date_weekday(d)} → {reason}이므로 다음 날로 (민법 제161조)")
        first = False
        d += ONE_DAY
    return d


def _counter(first: date, total: int, civil: bool, calendar: KoreanCalendar) -> Callable[[set[date]], date]:
    """The last day of a `total`-day period starting on `first`, given the days paused so far."""
    def last_day(paused: set[date]) -> date:
        if civil:
            return _roll(first + ONE_DAY * (total + len(paused) - 1), calendar)
        return _walk_open(first, total, calendar, paused)[0]

    return last_day


def _walk_open(first: date, n: int, calendar: KoreanCalendar, paused: set[date]) -> tuple[date, list[date]]:
    """민원처리법 제19조②: the n-th day from `first` (counted) that is neither closed nor paused."""
    d, count, skipped = first, 0, []
    while True:
        if calendar.is_closed(d) or d in paused:
            skipped.append(d)
        else:
            count += 1
            if count == n:
                return d, skipped
        d += ONE_DAY


def _check_extensions(rules: ClockRules, extensions: Sequence[Extension]) -> None:
    if len(extensions) > rules.max_extensions:
        allowed = f"at most {rules.max_extensions}" if rules.max_extensions else "none"
        raise InvalidInput(
            f"{len(extensions)} extension(s) requested but this clock allows {allowed} "
            f"({rules.legal_basis or 'no legal basis given'}); remove the extra extension",
            extensions=len(extensions),
            max_extensions=rules.max_extensions,
        )
    for i, ext in enumerate(extensions, 1):
        if ext.days > rules.max_extension_days:
            raise InvalidInput(
                f"extension {i} is {ext.days} days but at most {rules.max_extension_days} days are allowed "
                f"per extension ({rules.legal_basis})",
                extension=i,
                days=ext.days,
                max_extension_days=rules.max_extension_days,
            )


def _apply_pauses(
    pauses: Sequence[Pause],
    received: datetime,
    as_of: datetime | None,
    running_due: Callable[[set[date]], date],
    lines: list[str],
) -> tuple[set[date], bool]:
    """Collect the KST days the clock stood still; a pause starting after the running deadline is ignored."""
    paused: set[date] = set()
    provisional = False
    for pause in sorted(pauses, key=lambda p: p.start):
        if pause.start < received:
            raise InvalidInput(
                f"pause starting {pause.start.isoformat()} begins before the request was received "
                f"({received.isoformat()})",
                field="pause.start",
            )
        end = pause.end
        measured_to = ""
        if end is None:
            if as_of is None:
                raise InvalidInput(
                    "an open pause (end=None) needs as_of= (the instant to measure it to, e.g. clock.now())",
                    field="as_of",
                )
            if as_of < pause.start:
                raise InvalidInput(
                    f"as_of {as_of.isoformat()} is before the open pause started ({pause.start.isoformat()})",
                    field="as_of",
                )
            end = as_of
            measured_to = _moment(as_of)
        span = f"보완 대기 {_moment(pause.start)} ~ {_moment(end) if pause.end else '진행 중'}"
        current = running_due(paused)
        start_day, end_day = kst_date(pause.start), kst_date(end)
        if start_day > current:
            lines.append(
                f"{span} (사유: {pause.reason}): 기한 {korean_date_weekday(current)}이 지난 뒤 "
                "시작되어 기간에 반영하지 않음"
            )
            continue
        days = {start_day + ONE_DAY * i for i in range(1, (end_day - start_day).days + 1)}
        new = days - paused
        paused |= new
        note = f"{len(new)}일 불산입"
        if new:
            note += f" ({korean_date(min(new))}~{korean_date(max(new))}, 시작일 불산입)"
        if len(new) < len(days):
            note += "; 앞선 보완 대기와 겹치는 날은 한 번만 셈"
        if pause.end is None:
            provisional = True
            note += f"; {measured_to} 기준, 보완이 끝날 때까지 하루씩 늦어지는 잠정 기한"
        lines.append(f"{span} (사유: {pause.reason}): {note}")
    return paused, provisional


def _first_day_line(counting: str, at_midnight: bool, received_date: date) -> str:
    day = korean_date_weekday(received_date)
    if counting == "civil_petitions":
        return (
            f"접수일 {day}부터 산입하고 토요일·공휴일은 산입하지 않음 (민원 처리에 관한 법률 제19조제2항; "
            "개인정보 보호법 요구에 적용되는지는 미확인)"
        )
    if at_midnight:
        return f"접수 시각이 0시 정각이므로 접수일 {day}부터 기간에 산입 (민법 제157조 단서)"
    return f"접수일 {day}은 기간에 산입하지 않음 (민법 제157조)"


def _sum_text(days: int, ext_days: int, paused_days: int) -> str:
    parts = [f"{days}일"]
    parts += [f"연장 {ext_days}일"] if ext_days else []
    parts += [f"보완 대기 {paused_days}일"] if paused_days else []
    total = days + ext_days + paused_days
    return f"{' + '.join(parts)} = {total}일" if len(parts) > 1 else f"{total}일"


def compute_due(
    received_at: datetime,
    rules: ClockRules,
    calendar: KoreanCalendar,
    *,
    pauses: Sequence[Pause] = (),
    extensions: Sequence[Extension] = (),
    as_of: datetime | None = None,
) -> Due:
    """Due date for a request received at `received_at` (aware; naive is refused).

    Civil counting: last day = receipt date + days + extension days + paused days; the receipt day itself
    counts only when the request arrived at exactly 00:00:00 KST. 민법 제161조 is then applied once, to that
    final day. Pauses: see `Pause`; overlapping pauses count each day once; a pause starting after the
    deadline it would stretch is ignored (and said so in the basis); an open pause is measured up to `as_of`
    and makes the result provisional. Without `as_of` an open pause is refused rather than measured against
    a hidden system clock.
    """
    received = require_aware(received_at, "received_at").astimezone(KST)
    if as_of is not None:
        require_aware(as_of, "as_of")
    _check_extensions(rules, extensions)
    received_date = received.date()
    at_midnight = received.time() == time(0)
    civil = rules.counting == "civil"
    first = received_date + ONE_DAY if civil and not at_midnight else received_date
    ext_days = sum(e.days for e in extensions)
    total = rules.days + ext_days

    receipt = f"접수 일시 {_moment(received)} (한국 시각)"
    if received.utcoffset() != received_at.utcoffset():
        receipt += f"; 입력 {received_at.isoformat()}"
    basis = [receipt, _first_day_line(rules.counting, at_midnight, received_date)]
    basis.append(f"{rules.label} {rules.days}일" + (f" ({rules.legal_basis})" if rules.legal_basis else ""))
    for i, ext in enumerate(extensions, 1):
        basis.append(
            f"연장 {i}회차 {ext.days}일 (사유: {ext.reason}; 최대 {rules.max_extensions}회, "
            f"회당 {rules.max_extension_days}일 이내)"
        )

    running = _counter(first, total, civil, calendar)
    paused, provisional = _apply_pauses(pauses, received, as_of, running, basis)
    start = korean_date_weekday(first)
    if civil:
        last = first + ONE_DAY * (total + len(paused) - 1)
        sum_text = _sum_text(rules.days, ext_days, len(paused))
        basis.append(f"{start}부터 {sum_text}째 → 기간 말일 {korean_date_weekday(last)}")
        due_date = _roll(last, calendar, basis)
    else:
        due_date, skipped = _walk_open(first, total, calendar, paused)
        sum_text = _sum_text(rules.days, ext_days, 0)
        basis.append(f"{start}부터 산입하는 날로 {sum_text}째 → 기간 말일 {korean_date_weekday(due_date)}")
        if skipped:
            listed = ", ".join(
                _short(d, calendar) + (" 보완 대기" if not calendar.is_closed(d) else "") for d in skipped
            )
            basis.append(f"산입하지 않은 날 {len(skipped)}일: {listed}")
    basis.append(f"기한: {korean_date_weekday(due_date)} 24:00까지 (민법 제159조)")
    target, note = _internal_target(rules, first, ext_days, due_date, calendar,
                                    lambda counter: _apply_pauses(pauses, received, as_of, counter, [])[0])
    return Due(
        received_at=received,
        received_date=received_date,
        due_date=due_date,
        rules=rules,
        basis=basis,
        statutory=rules.statutory,
        extension_days=ext_days,
        paused_days=len(paused),
        provisional=provisional,
        internal_target=target,
        internal_note=note,
    )


def _internal_target(
    rules: ClockRules, first: date, ext_days: int, due_date: date, calendar: KoreanCalendar,
    paused_for: Callable[[Callable[[set[date]], date]], set[date]],
) -> tuple[date | None, str | None]:
    """The organisation's target: its days, the extensions and the pauses that began before it, counted like the
    due date and never after it; and how it was counted."""
    days = rules.internal_target_days
    if days is None:
        return None, None
    civil = rules.counting == "civil"
    counter = _counter(first, days + ext_days, civil, calendar)
    paused = paused_for(counter)
    target = counter(paused)
    start = korean_date_weekday(first)
    if civil:
        note = f"{start}부터 {_sum_text(days, ext_days, len(paused))}째"
        last = first + ONE_DAY * (days + ext_days + len(paused) - 1)
        if last != target:
            reason = _closed_reason(last, calendar)
            note += f"인 {korean_date_weekday(last)}이 {reason}이므로 다음 평일로 (민법 제161조)"
    else:
        note = f"{start}부터 산입하는 날로 {_sum_text(days, ext_days, 0)}째 (토요일·공휴일·보완 대기 제외)"
    if target > due_date:
        target = due_date
        note += ", 법정 기한보다 늦을 수 없어 법정 기한으로"
    return target, f"{note} → {korean_date_weekday(target)} (조직이 정한 목표이며 법정 기한이 아님)"


def days_left(due: date, today: date | datetime) -> int:
    """Days until the due date for D-day badges: D-3 → 3, D-day → 0, overdue → negative.

    `today` may be an aware datetime (e.g. `clock.now()`); it is placed on its Korean date first.
    """
    if isinstance(today, datetime):
        today = kst_date(today)
    return (due - today).days
