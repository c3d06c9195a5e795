"""Figures for the dashboard: cases received, closed and overdue per week and per right, and the on-time rate.

Weeks are Korean calendar weeks starting on Monday. A case counts as closed in the week of its final stage
event; as overdue in the week its due date fell in, when it was not closed by the end of that day; as on time
when it was closed on or before its due date (Korean dates).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, or_, select

from dsar.auth.roles import Principal
from dsar.calendar_kr import KST, kst_date
from dsar.models import Request, StageEvent
from dsar.rights import Right


def week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def dashboard(
    session: Session, principal: Principal, *, now: datetime, weeks: int = 12, org_id: int | None = None
) -> dict[str, Any]:
    today = kst_date(now)
    first = week_start(today) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, datetime.min.time(), KST)
    scope = [] if principal.is_admin else [col(Request.org_id) == principal.org_id]
    if org_id is not None:
        scope.append(col(Request.org_id) == org_id)
    closed_at = (select(StageEvent.request_id, func.max(StageEvent.at).label("closed_at"))
                 .join(Request, col(Request.id) == col(StageEvent.request_id))
                 .where(col(Request.closed).is_(True), *scope).group_by(col(StageEvent.request_id)).subquery())
    rows = session.exec(
        select(Request.right, Request.received_at, Request.due_date, Request.closed, closed_at.c.closed_at)
        .outerjoin(closed_at, closed_at.c.request_id == col(Request.id))
        .where(*scope, or_(col(Request.received_at) >= since, col(Request.due_date) >= first,
                           closed_at.c.closed_at >= since, col(Request.closed).is_(False)))
    ).all()
    by_week = {first + timedelta(weeks=i): {"received": 0, "closed": 0, "overdue": 0} for i in range(weeks)}
    by_right: dict[str, dict[str, int]] = defaultdict(lambda: {"received": 0, "closed": 0, "overdue": 0,
                                                               "on_time": 0, "open": 0})
    totals = {"closed": 0, "on_time": 0, "open": 0, "overdue_open": 0}
    for right, received_at, due, closed, done_at in rows:
        key = right or "미확정"
        received_day = kst_date(received_at)
        done_day = kst_date(done_at) if done_at is not None else None
        if received_day >= first:
            _bump(by_week, received_day, "received")
            by_right[key]["received"] += 1
        if closed and done_day is not None and done_day >= first:
            _bump(by_week, done_day, "closed")
            by_right[key]["closed"] += 1
            totals["closed"] += 1
            if due is None or done_day <= due:
                by_right[key]["on_time"] += 1
                totals["on_time"] += 1
        late = due is not None and due < today and (not closed or done_day is None or done_day > due)
        if late and due >= first:
            _bump(by_week, due, "overdue")
            by_right[key]["overdue"] += 1
        if not closed:
            totals["open"] += 1
            by_right[key]["open"] += 1
            if due is not None and due < today:
                totals["overdue_open"] += 1
    order = [str(r) for r in Right] + ["미확정"]
    return {
        "today": today, "first_week": first,
        "weeks": [{"week_start": start, "label": f"{start:%m/%d}", **counts} for start, counts in by_week.items()],
        "rights": [{"right": r, **by_right[r], "on_time_rate": _rate(by_right[r]["on_time"], by_right[r]["closed"])}
                   for r in order if r in by_right],
        "open": totals["open"], "overdue_open": totals["overdue_open"], "closed": totals["closed"],
        "on_time_rate": _rate(totals["on_time"], totals["closed"]),
    }


def _bump(by_week: dict[date, dict[str, int]], day: date, key: str) -> None:
    start = week_start(day)
    if start in by_week:
        by_week[start][key] += 1


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
