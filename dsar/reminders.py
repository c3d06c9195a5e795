"""The deadline sweep: D-3 and D-1 reminders and the due-day notice to the assignee, daily overdue escalation
to the 개인정보 보호책임자.

Each reminder is a notice with a unique key (case, kind, day): running the sweep twice, or in two beat
processes at once, sends nothing twice. The sweep reads only the cases due on the few days that matter (an
index on due_date), so its cost follows the number due, not the number open.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dsar import notices
from dsar.calendar_kr import kst_date
from dsar.clock import Clock
from dsar.models import Notice, Request, WorkflowVersion

REMIND_DAYS = (3, 1, 0)  # D-3, D-1, D-day


def _people(definition: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    contacts = definition.get("contacts", [])
    officer = next((c for c in contacts if c["role"] == "책임자"), None)
    officer_email = (officer or {}).get("email") or definition.get("settings", {}).get("officer_email")
    handler = next((c for c in contacts if c["role"] == "담당자" and c.get("email")), None)
    officer_staff = {"name": (officer or {}).get("name") or "개인정보 보호책임자", "role": "개인정보 보호책임자",
                     "email": officer_email} if officer_email else None
    handler_staff = {"name": handler.get("name") or "담당자", "role": "담당자", "email": handler["email"]} \
        if handler else officer_staff
    return handler_staff, officer_staff


def sweep(session: Session, *, clock: Clock) -> list[int]:
    """Create the reminders due today; returns the ids of the notices queued (deliver them after commit)."""
    today = kst_date(clock.now())
    soon = [today + timedelta(days=d) for d in REMIND_DAYS]
    due = session.exec(
        select(Request).where(col(Request.closed).is_(False), col(Request.org_id).is_not(None),
                              col(Request.workflow_version_id).is_not(None), col(Request.due_date).in_(soon))
    ).all()
    overdue = session.exec(
        select(Request).where(col(Request.closed).is_(False), col(Request.workflow_version_id).is_not(None),
                              col(Request.due_date) < today)
    ).all()
    created: list[int] = []
    definitions: dict[int, dict[str, Any]] = {}
    for request, kind in [(r, "reminder") for r in due] + [(r, "escalation_overdue") for r in overdue]:
        vid = request.workflow_version_id or 0
        if vid not in definitions:
            definitions[vid] = session.get(WorkflowVersion, vid).definition  # type: ignore[union-attr]
        handler, officer = _people(definitions[vid])
        recipient = handler if kind == "reminder" else officer
        if recipient is None:
            continue
        notice = _once(session, request, kind, recipient, today, clock)
        if notice is not None:
            created.append(notice.id or 0)
    return created


def _once(session: Session, request: Request, kind: str, staff: dict[str, Any], today: date, clock: Clock
          ) -> Notice | None:
    key = f"{kind}:{request.id}:{today.isoformat()}"
    if session.exec(select(Notice.id).where(Notice.dedupe_key == key)).first() is not None:
        return None
    try:
        with session.begin_nested():
            return notices.create(session, request, kind, actor="scheduler", clock=clock, staff=staff,
                                  dedupe_key=key)
    except IntegrityError:  # another sweep made it first
        return None
