"""The workflow engine: the only way a case is opened or changes stage.

Each call runs inside the caller's transaction and writes, together, the stage change, its stage event, its
audit event and any notice the definition asks for (into the outbox). The caller commits once, so a crash
leaves either all of it or none. Two staff acting at once: the row version makes the second commit fail with
`Conflict` instead of silently overwriting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from dsar import assignment, audit, notices
from dsar.calendar_kr import KST
from dsar.clock import Clock, SystemClock
from dsar.db import give_ids
from dsar.deadlines import ClockRules, Due, Extension, KoreanCalendar, Pause, compute_due
from dsar.errors import Conflict, GuardFailed, InvalidInput, NotFound, TransitionError
from dsar.models import ContactPerson, Notice, Organisation, Request, StageEvent, WorkflowVersion
from dsar.settings import get_settings
from dsar.workflow.definitions import RightWorkflow, right_workflow
from dsar.workflow.registry import latest_version

UNROUTED = "unrouted"


@lru_cache(maxsize=1)
def calendar() -> KoreanCalendar:
    return KoreanCalendar(date.fromisoformat(d) for d in get_settings().extra_holidays)


def workflow_of(session: Session, request: Request) -> RightWorkflow:
    if request.workflow_version_id is None or request.right is None:
        raise TransitionError(
            f"{request.number}은(는) 아직 조직과 워크플로가 정해지지 않았습니다: "
            "먼저 조직을 지정하세요 (route the case)"
        )
    version = session.get(WorkflowVersion, request.workflow_version_id)
    assert version is not None
    return right_workflow(version.definition, request.right)


def clock_rules(wf: RightWorkflow) -> ClockRules:
    c = wf.clock
    return ClockRules(
        days=c["days"], statutory=c["statutory"], counting=c.get("counting", "civil"),
        max_extensions=c.get("max_extensions", 0), max_extension_days=c.get("max_extension_days", 0),
        legal_basis=wf.spec.get("law", ""), internal_target_days=c.get("internal_target_days"),
    )


def _due(request: Request, rules: ClockRules, as_of: datetime) -> Due:
    pauses = [
        Pause(datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"]) if p["end"] else None,
              p["reason"] or "보완 요청")
        for p in request.pauses
    ]
    extensions = [Extension(e["days"], e["reason"]) for e in request.extensions]
    return compute_due(request.received_at, rules, calendar(), pauses=pauses, extensions=extensions, as_of=as_of)


def refresh_due(request: Request, rules: ClockRules, now: datetime) -> None:
    due = _due(request, rules, now)
    request.due_date = due.due_date
    request.due_basis = due.as_dict()


@dataclass
class Opening:
    """One case to open: `engine.open_cases` takes a batch of these (`fields` are further `Request` columns)."""

    org: Organisation | None
    right: str | None
    received_at: datetime
    inbound_id: int | None = None
    channel: str = "email"
    rights: list[str] | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # reserved beforehand (`dsar.db.reserve_ids`), when its number was already given out


def open_case(
    session: Session,
    *,
    org: Organisation | None,
    right: str | None,
    received_at: datetime,
    actor: str,
    clock: Clock,
    inbound_id: int | None = None,
    channel: str = "email",
    rights: list[str] | None = None,
    **fields: Any,
) -> Request:
    """Open one case (see `open_cases`)."""
    opening = Opening(org, right, received_at, inbound_id, channel, rights, fields)
    return open_cases(session, [opening], actor=actor, clock=clock)[0][0]


def open_cases(
    session: Session, openings: list[Opening], *, actor: str, clock: Clock
) -> tuple[list[Request], list[Notice]]:
    """Open cases, each on its organisation's newest workflow version, or unrouted when the organisation is
    unknown; with their audit events and 접수 확인 notices, in the caller's transaction.

    An unrouted case still gets its statutory due date (the clock runs from receipt whoever answers). A routed
    case gets its assignee (`dsar.assignment.pick`) unless the caller names one. The cases are inserted
    together (one statement for a batch), then numbered from their ids. Returns the cases and the
    acknowledgements made for them.
    """
    now = clock.now()
    opened: list[tuple[Request, WorkflowVersion | None, RightWorkflow | None]] = []
    for o in openings:
        version = latest_version(session, o.org.id) if o.org is not None and o.org.id is not None else None
        right = o.right
        # every column with a default factory is given, which saves pydantic re-inspecting the factories
        request = Request(
            org_id=o.org.id if o.org else None, right=right, rights=o.rights or ([right] if right else []),
            workflow_version_id=version.id if version and right else None, inbound_id=o.inbound_id,
            channel=o.channel, received_at=o.received_at, pauses=[], extensions=[], created_at=now, updated_at=now,
            **{"classification": {}, "due_basis": {}, **o.fields},
        )
        wf, rules = _workflow_and_rules(version, right)
        request.stage = wf.initial if wf is not None else UNROUTED
        refresh_due(request, rules, now)
        if wf is not None and request.assignee_id is None and request.org_id is not None:
            person = assignment.pick(session, request.org_id)
            request.assignee_id = person.id if person else None
        opened.append((request, version, wf))
    for (request, _, _), o in zip(opened, openings, strict=True):
        request.id = o.id
    give_ids(session, [request for request, _, _ in opened])
    for request, _, _ in opened:
        if request.id is not None:
            request.number = case_number(request.received_at, request.id)
    session.add_all([request for request, _, _ in opened])
    session.flush()
    acknowledgements = []
    for request, version, wf in opened:
        request.number = request.number or case_number(request.received_at, request.id or 0)
        audit.record(
            session, "request.opened", actor=actor, org_id=request.org_id, request_id=request.id, at=now,
            details={"number": request.number, "right": request.right, "stage": request.stage,
                     "channel": request.channel, "due": request.due_date.isoformat() if request.due_date else None,
                     "workflow_version": version.version if version and wf else None,
                     "assignee_id": request.assignee_id},
        )
        if wf is not None and wf.spec.get("acknowledgement") and request.requester_email:
            acknowledgements.append(notices.Draft(request, wf.spec["acknowledgement"]))
    made = notices.create_many(session, acknowledgements, actor=actor, clock=clock, first=True)
    return [request for request, _, _ in opened], made


def case_number(received_at: datetime, case_id: int) -> str:
    """DSAR-<year of receipt in Korea>-<id, six digits>."""
    return f"DSAR-{received_at.astimezone(KST).year}-{case_id:06d}"


def expected_due(session: Session, org: Organisation, right: str, received_at: datetime, clock: Clock) -> date | None:
    """The due date a case of this right would get if opened now (what the web form tells the requester before
    the case is opened; `open_cases` computes the same from the same rules)."""
    version = latest_version(session, org.id) if org.id is not None else None
    _wf, rules = _workflow_and_rules(version, right)
    return compute_due(received_at, rules, calendar(), as_of=clock.now()).due_date


def _workflow_and_rules(version: WorkflowVersion | None, right: str | None) -> tuple[RightWorkflow | None, ClockRules]:
    """The right's workflow in the version and its clock; an unrouted case (no version or right) runs on the
    statutory 10 days."""
    wf = right_workflow(version.definition, right) if version and right else None
    if wf is not None:
        return wf, clock_rules(wf)
    return None, ClockRules(days=10, statutory=True, legal_basis="개인정보 보호법 (권리 미확정: 10일 기준)")


def allowed(session: Session, request: Request) -> list[dict[str, Any]]:
    if request.stage == UNROUTED or request.closed:
        return []
    wf = workflow_of(session, request)
    return [
        {"name": t.name, "label": t.label, "to": t.target, "to_label": wf.stage_label(t.target),
         "requires": sorted(t.requires)}
        for t in wf.allowed_from(request.stage)
    ]


def advance(
    session: Session,
    request: Request,
    transition: str,
    *,
    actor: str,
    clock: Clock | None = None,
    reason: str | None = None,
    ground: str | None = None,
    officer_approval: str | None = None,
    extension_days: int | None = None,
    expected_version: int | None = None,
    decision: dict[str, Any] | None = None,
) -> Request:
    """Perform one transition the case's definition allows, with its guards, audit event and notice."""
    clock = clock or SystemClock()
    if expected_version is not None and expected_version != request.row_version:
        raise Conflict(
            f"{request.number}은(는) 그 사이 다른 사람이 변경했습니다 (version {request.row_version}, "
            f"expected {expected_version}): 새로 고친 뒤 다시 시도하세요"
        )
    if request.closed:
        raise TransitionError(f"{request.number}은(는) 이미 종결되었습니다 (case is closed)")
    wf = workflow_of(session, request)
    t = wf.transition(transition)
    if t is None or request.stage not in t.sources:
        options = ", ".join(f"{x.name}({x.label})" for x in wf.allowed_from(request.stage)) or "없음"
        raise TransitionError(
            f"'{transition}'은(는) '{wf.stage_label(request.stage)}' 단계에서 할 수 없습니다. 가능한 전이: {options}",
            stage=request.stage, transition=transition,
        )
    _check_guards(session, request, wf, t.requires, reason=reason, ground=ground,
                  officer_approval=officer_approval, extension_days=extension_days)
    now = clock.now()
    from_stage, number = request.stage, request.number
    _move_clock(request, wf, from_stage, t.target, now, reason)
    if "extension_days" in t.requires:
        request.extensions = [*request.extensions, {"days": extension_days, "reason": reason}]
    refresh_due(request, clock_rules(wf), now)
    request.stage = t.target
    request.closed = wf.is_final(t.target)
    request.updated_at = now
    session.add(request)
    try:
        session.flush()  # the row-version check: fails here if someone else changed the case meanwhile
    except StaleDataError as exc:
        raise Conflict(f"{number}은(는) 그 사이 다른 사람이 변경했습니다: 새로 고친 뒤 다시 시도하세요") from exc
    session.add(StageEvent(
        request_id=request.id, transition=t.name, from_stage=from_stage, to_stage=t.target, actor=actor,
        reason=reason, ground=ground, at=now,
    ))
    audit.record(
        session, "request.transition", actor=actor, org_id=request.org_id, request_id=request.id, at=now,
        details={"transition": t.name, "from": from_stage, "to": t.target, "ground": ground,
                 "officer_approval": officer_approval, "outcome": t.outcome,
                 "due": request.due_date.isoformat() if request.due_date else None},
    )
    if t.notice:
        full_decision = {"outcome": t.outcome, "reason": reason, "ground": wf.ground(ground) if ground else None,
                         "extension_days": extension_days, **(decision or {})}
        notices.create(session, request, t.notice, actor=actor, clock=clock, decision=full_decision,
                       approved_by=officer_approval)
    session.flush()
    return request


def reassign(
    session: Session,
    request: Request,
    contact_id: int,
    *,
    actor: str,
    clock: Clock | None = None,
    expected_version: int | None = None,
    notify: bool = True,
) -> Request:
    """Give the case to another of its organisation's active contacts; audited, and the new assignee is told by
    an `assignment` e-mail through the outbox (unless `notify` is False)."""
    clock = clock or SystemClock()
    if expected_version is not None and expected_version != request.row_version:
        raise Conflict(f"{request.number}은(는) 그 사이 다른 사람이 변경했습니다: 새로 고친 뒤 다시 시도하세요")
    if request.closed:
        raise TransitionError(f"{request.number}은(는) 이미 종결되었습니다 (case is closed)")
    person = session.get(ContactPerson, contact_id)
    if person is None or person.org_id != request.org_id:
        raise NotFound(f"담당자 {contact_id}은(는) {request.number}의 조직에 없습니다: 조직의 담당자 목록을 확인하세요")
    if not person.active:
        raise InvalidInput(f"담당자 {contact_id}은(는) 현재 처리방침에 없는 사람입니다: 활성 담당자에게 배정하세요",
                           field="contact_id")
    if request.assignee_id == contact_id:
        return request
    previous, number, now = request.assignee_id, request.number, clock.now()
    request.assignee_id = contact_id
    request.updated_at = now
    session.add(request)
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict(f"{number}은(는) 그 사이 다른 사람이 변경했습니다: 새로 고친 뒤 다시 시도하세요") from exc
    audit.record(session, "request.reassigned", actor=actor, org_id=request.org_id, request_id=request.id, at=now,
                 details={"from": previous, "to": contact_id, "role": person.role})
    staff = assignment.staff(person)
    if notify and staff is not None and request.workflow_version_id is not None:
        notices.create(session, request, "assignment", actor=actor, clock=clock, staff=staff)
    return request


def _check_guards(
    session: Session, request: Request, wf: RightWorkflow, requires: frozenset[str], *, reason: str | None,
    ground: str | None, officer_approval: str | None, extension_days: int | None,
) -> None:
    missing = []
    if "reason" in requires and not (reason and reason.strip()):
        missing.append("사유(reason)")
    if "ground" in requires:
        codes = [g["code"] for g in wf.spec.get("refusal_grounds", [])]
        if not ground:
            missing.append(f"법적 근거(ground: {', '.join(codes)})")
        elif wf.ground(ground) is None:
            raise GuardFailed(f"법적 근거 '{ground}'는 이 권리에 없습니다. 가능한 근거: {', '.join(codes)}")
    if "officer_approval" in requires and not (officer_approval and officer_approval.strip()):
        missing.append("개인정보 보호책임자 승인(officer_approval)")
    if "extension_days" in requires and not extension_days:
        missing.append("연장 일수(extension_days)")
    if missing:
        raise GuardFailed(f"이 전이에는 {', '.join(missing)}이(가) 필요합니다", missing=missing)
    if "notice_sent" in requires:  # a void notice (a verification code that expired unsent) never goes out
        pending = session.exec(
            select(Notice).where(Notice.request_id == request.id, col(Notice.status).not_in(["sent", "void"]))
        ).all()
        if pending:
            kinds = ", ".join(f"{n.kind}({n.status})" for n in pending)
            raise GuardFailed(f"아직 발송되지 않은 통지가 있어 종결할 수 없습니다: {kinds}")


def _move_clock(request: Request, wf: RightWorkflow, src: str, dst: str, now: datetime, reason: str | None) -> None:
    """Open a pause on entering a stage that waits for the requester; close it on leaving."""
    if wf.pauses_clock(src) and not wf.pauses_clock(dst) and request.pauses and request.pauses[-1]["end"] is None:
        request.pauses = [*request.pauses[:-1], {**request.pauses[-1], "end": now.isoformat()}]
    if wf.pauses_clock(dst) and not wf.pauses_clock(src):
        request.pauses = [*request.pauses, {"start": now.isoformat(), "end": None, "reason": reason or ""}]


def get_case(session: Session, ref: str | int) -> Request:
    """A case by its number (DSAR-2026-000123) or database id."""
    ref = str(ref).strip()
    query = select(Request).where(Request.number == ref.upper()) if not ref.isdigit() else None
    request = session.exec(query).first() if query is not None else session.get(Request, int(ref))
    if request is None:
        raise NotFound(f"사건 {ref}을(를) 찾을 수 없습니다 (no such case): dsar requests list로 번호를 확인하세요")
    return request
