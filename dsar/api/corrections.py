"""Correcting intake's classification over the API (rules and audit in `dsar.corrections`):

- `GET /api/messages[?status=not_a_request|quarantined]`, `GET /api/messages/{id}`: messages kept as not a
  request or quarantined (admin; reading one is audited);
- `POST /api/messages/{id}/cases`: open the cases staff choose for such a message;
- `POST /api/messages/{id}/reprocess`: run intake again on a quarantined message;
- `PUT /api/cases/{number}/right`, `PUT /api/cases/{number}/agent`: correct a case's right or agent kind (a
  corrected right sends the requester a corrected 접수 확인 when they had one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel import Session

from dsar import corrections
from dsar.api import outbox
from dsar.api.cases import Id, Limit, Number, Offset, state
from dsar.api.casework import case_for
from dsar.api.deps import ClockDep, PrincipalDep, SessionDep
from dsar.api.schemas import ERRORS, CaseState, Page, Version
from dsar.intake import service
from dsar.models import Request
from dsar.rights import Right

router = APIRouter(tags=["corrections"], responses=ERRORS)

AgentKind = Literal["법정대리인", "위임"]
ReviewStatus = Literal["not_a_request", "quarantined"]


class MessageItem(BaseModel):
    inbound_id: int
    received_at: datetime
    source: str
    status: ReviewStatus
    subject: str | None = Field(description="Masked subject (null for a quarantined message: see the detail)")
    language: str | None
    attachments: int = Field(description="How many files the message carries")
    problem_code: str | None = Field(description="Why it was quarantined (null: kept as not a request)")
    problem_message: str | None = Field(description="The reason in Korean, with what staff should do")


class MessageDetail(MessageItem):
    sender: str | None
    sender_name: str | None
    recipients: list[str]
    text: str = Field(description="The message text, with 주민등록번호, card and account numbers masked")
    org: dict[str, str] | None = Field(description="The organisation its recipients route to (null: unrouted)")
    attachment_names: list[str]
    agent_kind: str | None = Field(description="The agent intake read, if any")
    rights: list[str] = Field(description="The rights a case can be opened for")


class OpenCasesIn(BaseModel):
    rights: list[Right] = Field(min_length=1, max_length=7, description="One case per right")
    agent_kind: AgentKind | None = Field(None, description="null: the data subject in person; left out: the agent "
                                                           "intake read")


class OpenCasesOut(BaseModel):
    inbound_id: int
    cases: list[CaseState]


class Problem(BaseModel):
    code: str
    message: str = Field(description="Why, in Korean, with what staff should do")


class ReprocessOut(BaseModel):
    inbound_id: int
    status: str = Field(description="processed, not_a_request, bounce, or quarantined (again: see problem)")
    cases: list[str] = Field(description="The cases it opened")
    thread_of: str | None = Field(description="The case it was read as a reply to")
    due: str | None
    problem: Problem | None = Field(description="Why it is quarantined again")


class RightIn(BaseModel):
    right: Right
    expected_version: Version | None = None


class AgentIn(BaseModel):
    agent_kind: AgentKind | None = Field(description="null: the data subject asks in person")
    expected_version: Version | None = None


class CorrectionOut(BaseModel):
    case: CaseState
    right: str | None
    rights: list[str]
    agent_kind: str | None
    changed: bool = Field(description="False when the case already was so (nothing recorded)")
    acknowledgement: int | None = Field(None, description="The corrected 접수 확인 made for the requester "
                                                          "(notice id), when they had one naming the old right")


@router.get("/api/messages", response_model=Page[MessageItem])
def list_messages(
    session: SessionDep, principal: PrincipalDep, status: ReviewStatus | None = None, limit: Limit = 50,
    offset: Offset = 0,
) -> Any:
    """Messages intake kept as not a request or quarantined (`status`: one of them; default both), newest first
    (admin)."""
    items, total = corrections.review_list(session, principal, status=status, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/api/messages/{inbound_id}", response_model=MessageDetail)
def get_message(inbound_id: Id, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """One such message with its masked text and quarantine reason (recorded in the audit log as inbound.viewed).
    For a quarantined message the fields are what could still be read."""
    inbound = corrections.for_review(session, principal, inbound_id)
    return corrections.review_detail(session, principal, inbound, clock=clock)


@router.post("/api/messages/{inbound_id}/cases", response_model=OpenCasesOut, status_code=201)
def open_cases(inbound_id: Id, body: OpenCasesIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """Open one case per chosen right, from the message's receipt time; the acknowledgements go out. A message
    whose sender cannot be read is refused (422): enter that request with `POST /intake/staff`."""
    inbound = corrections.for_review(session, principal, inbound_id)
    read = inbound.summary.get("classification", {}).get("agent_kind")
    agent_kind = body.agent_kind if "agent_kind" in body.model_fields_set else read
    cases = corrections.open_cases(session, principal, inbound, [r.value for r in body.rights], clock=clock,
                                   agent_kind=agent_kind)
    session.commit()
    outbox.deliver(service.queued_notices(session, [inbound_id]))
    return {"inbound_id": inbound_id, "cases": [state(session, c) for c in cases]}


@router.post("/api/messages/{inbound_id}/reprocess", response_model=ReprocessOut)
def reprocess(inbound_id: Id, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """Run intake again on a quarantined message (after a fix); 409 for any other. It may open cases (their
    acknowledgements go out), be kept as not a request, or be quarantined again (`problem` says why)."""
    inbound = corrections.for_review(session, principal, inbound_id)
    result = corrections.reprocess(session, principal, inbound, clock=clock)
    session.commit()
    outbox.deliver(service.queued_notices(session, [inbound_id]))
    return result.as_dict()


@router.put("/api/cases/{number}/right", response_model=CorrectionOut)
def put_right(number: Number, body: RightIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """Correct the case's right: only while it is at its first stage (else 409); the due date is recomputed."""
    case = case_for(session, principal, number)
    changed, notice = corrections.change_right(session, principal, case, body.right.value, clock=clock,
                                               expected_version=body.expected_version)
    session.commit()
    if notice is not None and notice.status == "queued":
        outbox.deliver([notice.id or 0])
    return {**_corrected(session, case, changed), "acknowledgement": notice.id if notice else None}


@router.put("/api/cases/{number}/agent", response_model=CorrectionOut)
def put_agent(number: Number, body: AgentIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """Correct whether an agent asks (법정대리인, 위임) or the data subject in person (null)."""
    case = case_for(session, principal, number)
    changed = corrections.change_agent(session, principal, case, body.agent_kind, clock=clock,
                                       expected_version=body.expected_version)
    return _corrected(session, case, changed)


def _corrected(session: Session, case: Request, changed: bool) -> dict[str, Any]:
    return {"case": state(session, case), "right": case.right, "rights": case.rights, "agent_kind": case.agent_kind,
            "changed": changed}
