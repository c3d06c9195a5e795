"""Working a case on behalf of a signed-in principal: opening it (audited), moving it, reassigning, notes.

Shared by the HTTP API and the console. Each function checks the principal's right first (another
organisation's case is "not found"), then calls the engine, so the rules hold whichever door is used. Nothing
here commits: the caller commits once, so a view and its audit event, or a transition and its notice, are
stored together or not at all.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, func, select

from dsar import audit, corrections, engine
from dsar.auth.models import Note
from dsar.auth.roles import (
    OFFICER,
    Forbidden,
    Principal,
    require_assigner,
    require_case_worker,
    require_visible,
)
from dsar.calendar_kr import kst_date
from dsar.clock import Clock
from dsar.deadlines import days_left
from dsar.errors import InvalidInput, NotFound, TransitionError
from dsar.letters import NOTICE_KINDS
from dsar.models import AuditEvent, ContactPerson, InboundMessage, Notice, Organisation, Request, StageEvent
from dsar.pii import mask_pii
from dsar.workflow.definitions import RightWorkflow

AGENT_LABELS = {"법정대리인": "법정대리인", "위임": "위임받은 대리인"}
OFFICER_ONLY = frozenset({"officer_approval", "extension_days"})



def case_for(session: Session, principal: Principal, number: str) -> Request:
    """A case the principal may see, by number; any other is "not found" (its existence does not leak)."""
    case = session.exec(select(Request).where(Request.number == number.strip().upper())).first()
    if case is None or not principal.sees_org(case.org_id):
        raise NotFound(f"사건 {number}을(를) 찾을 수 없습니다 (no such case): 사건 번호를 확인하세요")
    return case


def workflow(session: Session, case: Request) -> RightWorkflow | None:
    if case.stage == engine.UNROUTED or case.workflow_version_id is None:
        return None
    return engine.workflow_of(session, case)


def view(session: Session, principal: Principal, case: Request, *, clock: Clock) -> dict[str, Any]:
    """Everything staff need to decide the case; writes the access to personal data to the audit log."""
    audit.record(session, "request.viewed", actor=principal.actor, org_id=case.org_id, request_id=case.id,
                 at=clock.now(), details={"via": principal.kind})
    wf = workflow(session, case)
    today = kst_date(clock.now())
    org = session.get(Organisation, case.org_id) if case.org_id else None
    inbound = session.get(InboundMessage, case.inbound_id) if case.inbound_id else None
    person = session.get(ContactPerson, case.assignee_id) if case.assignee_id else None
    left = days_left(case.due_date, today) if case.due_date else None
    summary = inbound.summary if inbound else {}
    return {
        "number": case.number, "org": {"slug": org.slug, "name": org.name} if org else None,
        "right": case.right, "rights": case.rights, "stage": case.stage,
        "stage_label": wf.stage_label(case.stage) if wf else "미배정", "closed": case.closed,
        "channel": case.channel, "received_at": case.received_at, "due_date": case.due_date, "days_left": left,
        "overdue": bool(left is not None and left < 0 and not case.closed), "due_basis": case.due_basis,
        "pauses": case.pauses, "extensions": case.extensions, "row_version": case.row_version,
        "requester": {"name": case.requester_name, "email": case.requester_email, "phone": case.requester_phone},
        "agent": {"kind": case.agent_kind, "label": AGENT_LABELS.get(case.agent_kind, case.agent_kind)}
        if case.agent_kind else None,
        "message": {
            "subject": mask_pii(case.subject).text, "text": mask_pii(case.details).text,
            "inbound_id": case.inbound_id, "sender": summary.get("sender"),
            "recipients": summary.get("recipients", []),
            "attachments": attachment_entries(case.number or "", summary),
        },
        "classification": {"rights": case.rights, "agent_kind": case.agent_kind,
                           "language": case.classification.get("language"),
                           "evidence": case.classification.get("evidence", {})},
        "right_choices": corrections.right_choices(session, case),
        "assignee": _person(person),
        "duplicate_of": _number(session, case.duplicate_of_id), "thread_of": _number(session, case.thread_of_id),
        "allowed": allowed(session, principal, case, wf),
        "refusal_grounds": [{"code": g["code"], "article": g["article"], "text": g["text"],
                             "public_bodies_only": bool(g.get("public_bodies_only"))}
                            for g in (wf.spec.get("refusal_grounds", []) if wf else [])],
        "timeline": timeline(session, case, wf),
    }


def attachment_entries(number: str, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The message's attachments as the parser listed them, each with the address that downloads it."""
    return [{"index": i, "filename": a.get("filename"), "content_type": a.get("content_type"), "size": a.get("size"),
             "sha256": a.get("sha256"), "url": f"/api/cases/{number}/attachments/{i}"}
            for i, a in enumerate(summary.get("attachments", []))]


def _person(person: ContactPerson | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"id": person.id, "name": person.name, "role": person.role, "department": person.department,
            "email": person.email, "active": person.active}


def _number(session: Session, request_id: int | None) -> str | None:
    other = session.get(Request, request_id) if request_id else None
    return other.number if other else None


def allowed(session: Session, principal: Principal, case: Request, wf: RightWorkflow | None) -> list[dict[str, Any]]:
    """The transitions the definition allows now, each saying whether this principal may perform it."""
    out = []
    for a in engine.allowed(session, case):
        t = wf.transition(a["name"]) if wf else None
        officer_only = bool(OFFICER_ONLY & set(a["requires"]))
        out.append({**a, "notice": t.notice if t else None, "officer_only": officer_only,
                    "permitted": may_work(principal, case) and (not officer_only or principal.role == OFFICER)})
    return out


def may_work(principal: Principal, case: Request) -> bool:
    try:
        require_case_worker(principal, org_id=case.org_id, assignee_id=case.assignee_id)
    except (Forbidden, NotFound):
        return False
    return True


def timeline(session: Session, case: Request, wf: RightWorkflow | None) -> list[dict[str, Any]]:
    """Stage events and audit events in the order they were written. An audit `request.transition` repeats a
    stage event, so it is folded into it (its hash shown) rather than listed twice. The order is that of the
    audit chain, which every change joins in its own transaction, not of the timestamps: those come from
    whichever clock each writer used."""
    label = wf.stage_label if wf else (lambda s: s)
    stages = list(session.exec(select(StageEvent).where(StageEvent.request_id == case.id)
                               .order_by(col(StageEvent.at), col(StageEvent.id))))
    events = audit.events_for(session, case.id or 0)
    transitions = [e for e in events if e.action == "request.transition"]
    last = max((e.id or 0 for e in events), default=0)
    keyed: list[tuple[int, dict[str, Any]]] = []
    for i, s in enumerate(stages):
        trail = transitions[i] if i < len(transitions) else None
        keyed.append((trail.id or 0 if trail else last + 1 + i, {
            "at": s.at, "kind": "stage", "actor": s.actor, "action": s.transition,
            "title": f"{label(s.from_stage or '')} → {label(s.to_stage)}",
            "details": {"transition": s.transition, "from": s.from_stage, "to": s.to_stage, "reason": s.reason,
                        "ground": s.ground, "audit_hash": trail.hash if trail else None}}))
    for e in events:
        if e.action != "request.transition":
            details = dict(e.details)
            if "kind" in details and details["kind"] in NOTICE_KINDS:
                details["kind_title"] = NOTICE_KINDS[details["kind"]].title
            keyed.append((e.id or 0, {"at": e.at, "kind": "audit", "actor": e.actor, "action": e.action,
                                      "title": audit.label(e.action), "details": details}))
    return [entry for _, entry in sorted(keyed, key=lambda pair: pair[0])]


def transition(
    session: Session, principal: Principal, case: Request, name: str, *, clock: Clock, reason: str | None = None,
    ground: str | None = None, extension_days: int | None = None, expected_version: int | None = None,
    decision: dict[str, Any] | None = None,
) -> list[Notice]:
    """Perform one transition as the principal; returns the notices it made (deliver the queued ones after
    commit). The officer's approval is the signed-in officer's identity, never a name typed into a form."""
    require_case_worker(principal, org_id=case.org_id, assignee_id=case.assignee_id)
    wf = workflow(session, case)
    t = wf.transition(name) if wf else None
    if t is not None and OFFICER_ONLY & t.requires and principal.role != OFFICER:
        raise Forbidden(f"'{t.label}'은(는) 개인정보 보호책임자만 할 수 있습니다 (officer approval required)")
    before = _last_notice_id(session, case)
    engine.advance(
        session, case, name, actor=principal.actor, clock=clock, reason=reason, ground=ground,
        officer_approval=principal.approval if principal.role == OFFICER else None,
        extension_days=extension_days, expected_version=expected_version, decision=decision,
    )
    return list(session.exec(select(Notice).where(Notice.request_id == case.id, col(Notice.id) > before)
                             .order_by(col(Notice.id))))


def _last_notice_id(session: Session, case: Request) -> int:
    return int(session.exec(select(func.coalesce(func.max(Notice.id), 0)).where(Notice.request_id == case.id)).one())


def reassign(
    session: Session, principal: Principal, case: Request, assignee_id: int, *, clock: Clock,
    expected_version: int | None = None,
) -> list[Notice]:
    """Give the case to another contact person of its organisation (engine.reassign: audited, and the new
    assignee gets an `assignment` e-mail); returns the notices made, to deliver after commit."""
    require_visible(principal, case.org_id, "사건")
    require_assigner(principal)
    if case.org_id is None:
        raise TransitionError(f"{case.number}은(는) 아직 조직이 정해지지 않아 배정할 수 없습니다 (unrouted)")
    before = _last_notice_id(session, case)
    engine.reassign(session, case, assignee_id, actor=principal.actor, clock=clock, expected_version=expected_version)
    return list(session.exec(select(Notice).where(Notice.request_id == case.id, col(Notice.id) > before)))


def add_note(session: Session, principal: Principal, case: Request, body: str, *, clock: Clock) -> Note:
    require_case_worker(principal, org_id=case.org_id, assignee_id=case.assignee_id)
    body = body.strip()
    if not body:
        raise InvalidInput("메모 내용이 비어 있습니다 (note is empty)", field="body")
    note = Note(request_id=case.id or 0, author=principal.actor, author_id=principal.user_id, body=body,
                created_at=clock.now())
    session.add(note)
    session.flush()
    audit.record(session, "note.added", actor=principal.actor, org_id=case.org_id, request_id=case.id,
                 at=clock.now(), details={"note_id": note.id, "length": len(body)})
    return note


def notes(session: Session, case: Request, *, limit: int, offset: int) -> tuple[list[Note], int]:
    query = select(Note).where(Note.request_id == case.id)
    rows = session.exec(query.order_by(col(Note.created_at), col(Note.id)).limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(Note).where(Note.request_id == case.id)).one()
    return list(rows), int(total)


def audit_events(session: Session, case: Request, *, limit: int, offset: int) -> tuple[list[AuditEvent], int]:
    query = select(AuditEvent).where(AuditEvent.request_id == case.id)
    rows = session.exec(query.order_by(col(AuditEvent.id)).limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.request_id == case.id)).one()
    return list(rows), int(total)

