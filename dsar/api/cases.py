"""/api/cases: the queue, one case, its transitions, assignment and notes."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlmodel import col, func, select

from dsar.api import casework, outbox, queries
from dsar.api.deps import ClockDep, PrincipalDep, SessionDep
from dsar.api.schemas import (
    ERRORS,
    AssigneeIn,
    CaseDetail,
    CaseItem,
    CaseState,
    NoteIn,
    NoteOut,
    Page,
    QuarantinedItem,
    TransitionIn,
    TransitionOut,
)
from dsar.auth.roles import Forbidden
from dsar.calendar_kr import kst_date
from dsar.models import InboundMessage, Request
from dsar.pii import mask_pii
from dsar.rights import Right

router = APIRouter(prefix="/api/cases", tags=["cases"], responses=ERRORS)

Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="How many to skip")]
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
Number = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$",
                             description="Case number, e.g. DSAR-2026-000123")]
Slug = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$", description="Organisation slug")]
OrgQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9._-]*$", description="Organisation slug")]


@router.get("", response_model=Page[CaseItem] | Page[QuarantinedItem])
def list_cases(
    session: SessionDep, principal: PrincipalDep, clock: ClockDep,
    org: OrgQuery = None,
    right: Right | None = None,
    stage: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]*$")] = None,
    assignee: Annotated[str | None, Query(pattern=r"^(me|none|\d{1,9})$",
                                          description="ContactPerson id, `me` or `none`")] = None,
    due_before: Annotated[date | None, Query(description="Due strictly before this date")] = None,
    overdue: bool = False,
    unrouted: bool = False,
    quarantined: Annotated[bool, Query(description="List quarantined inbound messages instead (admin)")] = False,
    closed: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Cases the caller may see, most urgent first (due date, then number)."""
    if quarantined:
        return _quarantined(session, principal, limit, offset)
    f = queries.CaseFilter(org=org, right=right.value if right else None, stage=stage, assignee=assignee,
                           due_before=due_before, overdue=overdue, unrouted=unrouted, closed=closed,
                           limit=limit, offset=offset)
    items, total = queries.list_cases(session, principal, f, kst_date(clock.now()))
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _quarantined(session: SessionDep, principal: PrincipalDep, limit: int, offset: int) -> dict[str, Any]:
    if not principal.is_admin:
        raise Forbidden("격리된 메시지는 관리자만 볼 수 있습니다 (admin only)")
    where = col(InboundMessage.status) == "quarantined"
    rows = session.exec(select(InboundMessage).where(where).order_by(col(InboundMessage.id))
                        .limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(InboundMessage).where(where)).one()
    items = [{"inbound_id": m.id, "received_at": m.received_at, "code": m.problem_code,
              "reason": mask_pii(m.problem_message).text if m.problem_message else None,  # may quote a file name
              "subject": m.summary.get("subject")} for m in rows]
    return {"items": items, "total": int(total), "limit": limit, "offset": offset}


@router.get("/{number}", response_model=CaseDetail)
def get_case(number: Number, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> dict[str, Any]:
    """One case with requester, masked message, classification evidence, timeline and allowed transitions.
    Opening it is recorded in the audit log (request.viewed)."""
    case = casework.case_for(session, principal, number)
    return casework.view(session, principal, case, clock=clock)


def state(session: SessionDep, case: Request) -> dict[str, Any]:
    wf = casework.workflow(session, case)
    return {"number": case.number, "stage": case.stage, "stage_label": wf.stage_label(case.stage) if wf else "미배정",
            "closed": case.closed, "due_date": case.due_date, "row_version": case.row_version,
            "assignee_id": case.assignee_id}


@router.post("/{number}/transitions", response_model=TransitionOut)
def post_transition(
    number: Number, body: TransitionIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> dict[str, Any]:
    """Move the case along one transition its workflow allows (engine.advance). Refusals, objection
    dismissals and extensions need the 개인정보 보호책임자: the signed-in officer's identity is the approval."""
    case = casework.case_for(session, principal, number)
    decision = {k: v for k, v in (("items", body.items), ("withheld_items", body.withheld_items),
                                  ("note", body.note)) if v}
    made = casework.transition(
        session, principal, case, body.name, clock=clock, reason=body.reason, ground=body.ground,
        extension_days=body.extension_days, expected_version=body.expected_version, decision=decision or None,
    )
    session.commit()
    if body.deliver:
        outbox.deliver([n.id for n in made if n.status == "queued" and n.id is not None])
    for n in made:
        session.refresh(n)
    return {"case": state(session, case), "notices": [outbox.notice_row(n) for n in made]}


@router.put("/{number}/assignee", response_model=CaseState)
def put_assignee(
    number: Number, body: AssigneeIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> dict[str, Any]:
    """Assign the case to a contact person of its organisation (책임자 or admin); the new assignee is told by
    e-mail through the outbox."""
    case = casework.case_for(session, principal, number)
    made = casework.reassign(session, principal, case, body.assignee_id, clock=clock,
                             expected_version=body.expected_version)
    session.commit()
    outbox.deliver([n.id for n in made if n.status == "queued" and n.id is not None])
    return state(session, case)


@router.get("/{number}/notes", response_model=Page[NoteOut])
def list_notes(
    number: Number, session: SessionDep, principal: PrincipalDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    case = casework.case_for(session, principal, number)
    rows, total = casework.notes(session, case, limit=limit, offset=offset)
    return {"items": [r.model_dump() for r in rows], "total": total, "limit": limit, "offset": offset}


@router.post("/{number}/notes", response_model=NoteOut, status_code=201)
def post_note(number: Number, body: NoteIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """An internal note (never sent to the requester)."""
    case = casework.case_for(session, principal, number)
    return casework.add_note(session, principal, case, body.body, clock=clock).model_dump()
