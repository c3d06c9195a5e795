"""Retention: a closed case and its messages lose their personal data `retention_days` after it closed.

A purged case stays as a tombstone (number, organisation, right, stage, dates, `purged_at`), so statistics,
threading by number and the audit trail keep working; what goes is who asked and what they wrote: the
requester's name, e-mail (and its lookup hash) and phone, the subject and text, the bodies, recipient and data
of its notices, staff notes and transition reasons (also where pauses, extensions and the due-date arithmetic
quote them). A message goes (raw bytes, summary, problem text) once it is
older than the period and every case it opened or replied to is purged or due. Audit events hold ids and
hashes, never this data, so they are left as they are and the chain still verifies; each purge is itself an
audit event (`request.purged`, `inbound.purged`).

A case's closing time is its `updated_at` (set by the closing transition; a closed case takes no further
transitions). `run` works in batches, each its own transaction, so an interrupted purge resumes where it stopped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, update
from sqlmodel import Session, col, select

from dsar import audit
from dsar.auth.models import Note
from dsar.clock import Clock
from dsar.db import session_scope
from dsar.models import InboundMessage, Notice, Request, StageEvent
from dsar.settings import get_settings

ACTOR = "retention"
WIPED = "파기됨"  # stands in for a reason, where the data must keep one
_REASON = re.compile(r'사유: [^);"\\]*')  # a pause or extension reason quoted in the due-date arithmetic


@dataclass
class PurgeReport:
    cutoff: datetime
    dry_run: bool
    cases: list[str] = field(default_factory=list)  # case numbers purged (or, in a dry run, due)
    messages: list[int] = field(default_factory=list)  # inbound message ids

    def as_dict(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff.isoformat(), "dry_run": self.dry_run, "cases": self.cases,
                "messages": self.messages}


def cutoff(now: datetime) -> datetime:
    return now - timedelta(days=get_settings().retention_days)


def run(*, clock: Clock, dry_run: bool = False, batch: int = 200) -> PurgeReport:
    """Purge everything past the retention period (or, with dry_run, only list it)."""
    now = clock.now()
    report = PurgeReport(cutoff=cutoff(now), dry_run=dry_run)
    with session_scope() as session:
        cases = due_cases(session, report.cutoff)
        report.messages = due_messages(session, report.cutoff)
    if dry_run:
        report.cases = [number for _, number in cases]
        return report
    for i in range(0, len(cases), batch):
        with session_scope() as session:
            report.cases += [n for case_id, _ in cases[i:i + batch] if (n := purge_case(session, case_id, now))]
    for i in range(0, len(report.messages), batch):
        with session_scope() as session:
            for inbound_id in report.messages[i:i + batch]:
                purge_message(session, inbound_id, now)
    return report


def _expired(before: datetime) -> Any:
    """Cases purged already or closed before `before` (so due now)."""
    return or_(col(Request.purged_at).is_not(None), and_(col(Request.closed).is_(True),
                                                         col(Request.updated_at) < before))


def due_cases(session: Session, before: datetime) -> list[tuple[int, str]]:
    """(id, number) of the closed cases not yet purged whose closing is older than `before`."""
    query = select(Request.id, Request.number).where(
        col(Request.purged_at).is_(None), col(Request.closed).is_(True), col(Request.updated_at) < before,
    ).order_by(col(Request.id))
    return [(case_id, number or "") for case_id, number in session.exec(query)]  # type: ignore[misc]


def due_messages(session: Session, before: datetime) -> list[int]:
    """Messages received before `before`, processed, not purged, whose every case is expired: the cases it
    opened (`Request.inbound_id`) and the case it replied to (`summary.thread_of`, a case number)."""
    live_case = exists().where(col(Request.inbound_id) == col(InboundMessage.id), ~_expired(before))
    rows = session.exec(
        select(InboundMessage.id, InboundMessage.summary).where(
            col(InboundMessage.purged_at).is_(None), col(InboundMessage.received_at) < before,
            col(InboundMessage.status) != "stored", ~live_case,
        ).order_by(col(InboundMessage.id))
    ).all()
    threads = {s.get("thread_of") for _, s in rows if s.get("thread_of")}
    live_threads = set(session.exec(
        select(Request.number).where(col(Request.number).in_(threads), ~_expired(before))
    )) if threads else set()
    return [inbound_id for inbound_id, s in rows if s.get("thread_of") not in live_threads]  # type: ignore[misc]


def purge_case(session: Session, case_id: int, now: datetime) -> str | None:
    """Wipe one case's personal data (if it is still closed and not purged); returns its number."""
    case = session.exec(select(Request).where(
        col(Request.id) == case_id, col(Request.closed).is_(True), col(Request.purged_at).is_(None))).first()
    if case is None:
        return None
    case.requester_name = case.requester_email = case.requester_phone = None
    case.subject = case.details = ""
    case.pauses = [{**p, "reason": WIPED} for p in case.pauses]  # staff's words, copied from transitions
    case.extensions = [{**e, "reason": WIPED} for e in case.extensions]
    case.due_basis = json.loads(_REASON.sub(f"사유: {WIPED}", json.dumps(case.due_basis, ensure_ascii=False)))
    case.purged_at = now
    notices = list(session.exec(select(Notice).where(col(Notice.request_id) == case_id)))
    for notice in notices:
        notice.subject = notice.html = notice.text = ""
        notice.context, notice.recipient, notice.last_error = {}, None, None
    notes = list(session.exec(select(Note).where(col(Note.request_id) == case_id)))
    for note in notes:
        note.body = ""
    events = list(session.exec(select(StageEvent).where(col(StageEvent.request_id) == case_id,
                                                        col(StageEvent.reason).is_not(None))))
    for stage_event in events:
        stage_event.reason = None
    session.add_all([case, *notices, *notes, *events])
    audit.record(session, "request.purged", actor=ACTOR, org_id=case.org_id, request_id=case.id, at=now,
                 details={"number": case.number, "notices": len(notices), "notes": len(notes)})
    return case.number


def purge_message(session: Session, inbound_id: int, now: datetime) -> None:
    """Wipe one message's raw bytes, summary and problem text (without reading them); keeps its hash and ids."""
    wipe = update(InboundMessage).where(col(InboundMessage.id) == inbound_id, col(InboundMessage.purged_at).is_(None))
    wiped = session.exec(wipe.values(raw=b"", summary={}, problem_message=None, purged_at=now))  # type: ignore[call-overload]
    if wiped.rowcount == 1:
        audit.record(session, "inbound.purged", actor=ACTOR, at=now, details={"inbound_id": inbound_id})
