"""/api/cases/{number}/verification: staff working a case's identity check (본인확인).

    GET  …/verification            what the check needs, what is done, the agent checklist (an audited view)
    POST …/verification/start      begin it (a just-received case moves to 본인확인)
    POST …/verification/codes      send a code by e-mail or SMS: {"method": "email_code" | "phone_code"}
    POST …/verification/documents  a staff member looked at an ID document: {"document_type": "resident_card"}
    POST …/verification/checklist  tick an item of the agent checklist: {"item": "power_of_attorney"}
    POST …/verification/login      the requester proved who they are by signing in to the organisation's service

Reading: anyone who sees the case's organisation; another organisation's case is 404. Changing: the case's
officer or the handler it is assigned to, as for every change to a case (`require_case_worker`); 감사 and admin
get 403. The rules (methods, code limits, audit events, moving the case on when done) are `dsar.verification`'s;
`state`, `require_worker` and `send_code` are shared with the console and the command line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from dsar import audit, verification
from dsar.api import casework
from dsar.api.cases import Number
from dsar.api.deps import ClockDep, PrincipalDep, SessionDep
from dsar.api.schemas import ERRORS
from dsar.auth.roles import Principal, require_case_worker
from dsar.clock import Clock
from dsar.mail import DeliveryFailed
from dsar.models import Request, WorkflowVersion
from dsar.settings import get_settings
from dsar.verification_models import Verification, VerificationChallenge, VerificationCheck

router = APIRouter(prefix="/api/cases/{number}/verification", tags=["verification"], responses=ERRORS)

STATUS_LABELS = {"not_started": "시작 전", "open": "진행 중", "verified": "완료", "unverified": "확인 불가로 종결",
                 "finished": "확인 불가로 종결", "superseded": "담당자가 다음 단계로 넘김"}
REQUIREMENT_LABELS = {"identity": "정보주체 본인 확인", "법정대리인": "법정대리인 확인(대리인 확인 서류)",
                      "위임": "위임받은 대리인 확인(대리인 확인 서류)"}
CODE_LABELS = {"pending": "입력 대기", "verified": "확인됨", "expired": "만료", "locked": "시도 횟수 초과",
               "superseded": "새 코드로 대체됨", "void": "보내지 못함", "sending": "보내는 중"}
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z_]+$")]


# ------------------------------------------------------------------------------------------ bodies


class MethodIn(BaseModel):
    method: Literal["email_code", "phone_code"] = Field(description="email_code (e-mail) or phone_code (SMS)")


class DocumentIn(BaseModel):
    document_type: Code = Field(description="Kind of ID document looked at: " + ", ".join(verification.DOCUMENT_TYPES))


class ItemIn(BaseModel):
    item: Code = Field(description="A checklist item of the case's agent kind (see `checklist` in the state)")


class MethodOut(BaseModel):
    method: str
    label: str
    usable: bool = Field(description="False when the case lacks what the method needs (an e-mail address, a phone)")


class CheckOut(BaseModel):
    method: str
    label: str
    item: str
    item_label: str
    by: str
    at: datetime


class ChecklistOut(BaseModel):
    item: str
    label: str
    done: bool
    by: str | None
    at: datetime | None


class CodeOut(BaseModel):
    method: str
    status: str
    status_label: str
    attempts: int
    max_attempts: int
    created_at: datetime
    expires_at: datetime


class Choice(BaseModel):
    code: str
    label: str


class VerificationOut(BaseModel):
    number: str
    status: str = Field(description="not_started, open, verified, unverified, finished or superseded")
    status_label: str
    requirement: str = Field(description="identity, 법정대리인 or 위임")
    requirement_label: str
    startable: bool = Field(description="Whether `start` would begin (or restart) the check now")
    methods: list[MethodOut]
    started_at: datetime | None
    close_at: datetime | None = Field(description="When an unfinished check closes the case as unverified")
    reminded_at: datetime | None
    completed_at: datetime | None
    checks: list[CheckOut]
    checklist: list[ChecklistOut]
    code: CodeOut | None = Field(description="The newest code sent (never the code itself)")
    codes_sent: int
    max_codes: int
    document_types: list[Choice]


class CodeSentOut(BaseModel):
    sent: bool = Field(description="False when the e-mail or SMS could not be sent (the code is then void)")
    message: str
    verification: VerificationOut


# ------------------------------------------------------------------------------------- shared logic


def require_worker(principal: Principal, case: Request) -> None:
    require_case_worker(principal, org_id=case.org_id, assignee_id=case.assignee_id)


def state(session: Session, case: Request) -> dict[str, Any]:
    """The case's identity check as staff see it; no requester data (only whether a method is usable)."""
    v = session.exec(select(Verification).where(Verification.request_id == case.id)).first()
    codes = list(session.exec(select(VerificationChallenge).where(VerificationChallenge.request_id == case.id)
                              .order_by(col(VerificationChallenge.id))))
    checks = session.exec(select(VerificationCheck).where(VerificationCheck.request_id == case.id)
                          .order_by(col(VerificationCheck.at), col(VerificationCheck.id)))
    status = v.status if v else "not_started"
    requirement = v.requirement if v else (case.agent_kind if case.agent_kind in verification.AGENT_CHECKLISTS
                                           else "identity")
    wf = casework.workflow(session, case)
    return {
        "number": case.number, "status": status, "status_label": STATUS_LABELS.get(status, status),
        "requirement": requirement, "requirement_label": REQUIREMENT_LABELS.get(requirement, requirement),
        "startable": bool(wf and not case.closed and status != "open" and case.stage in (wf.initial, "verifying")),
        "methods": [{"method": m, "label": verification.METHOD_LABELS[m], "usable": _usable(case, m)}
                    for m in (v.methods if v else _offered(session, case))],
        "started_at": v.started_at if v else None, "close_at": v.close_at if v else None,
        "reminded_at": v.reminded_at if v else None, "completed_at": v.completed_at if v else None,
        "checks": [_check(c, case) for c in checks],
        "checklist": [{**i, "at": datetime.fromisoformat(i["at"]) if i["at"] else None}
                      for i in verification.checklist(session, case)],
        "code": _code(codes[-1]) if codes else None,
        "codes_sent": len(codes), "max_codes": get_settings().verification_max_codes,
        "document_types": [{"code": k, "label": v} for k, v in verification.DOCUMENT_TYPES.items()],
    }


def _offered(session: Session, case: Request) -> list[str]:
    version = session.get(WorkflowVersion, case.workflow_version_id) if case.workflow_version_id else None
    return verification.methods_for(version.definition) if version else []


def _usable(case: Request, method: str) -> bool:
    return bool({"email_code": case.requester_email, "phone_code": case.requester_phone}.get(method, True))


def _check(c: VerificationCheck, case: Request) -> dict[str, Any]:
    items = {i.code: i.label for i in verification.AGENT_CHECKLISTS.get(case.agent_kind or "", ())}
    label = verification.DOCUMENT_TYPES.get(c.item) if c.method == "document" else items.get(c.item)
    return {"method": c.method, "label": verification.METHOD_LABELS.get(c.method, c.method), "item": c.item,
            "item_label": label or "", "by": c.actor, "at": c.at}


def _code(c: VerificationChallenge) -> dict[str, Any]:
    return {"method": c.method, "status": c.status, "status_label": CODE_LABELS.get(c.status, c.status),
            "attempts": c.attempts, "max_attempts": c.max_attempts, "created_at": c.created_at,
            "expires_at": c.expires_at}


def send_code(session: Session, case: Request, method: str, *, actor: str, clock: Clock) -> tuple[bool, str]:
    """Send a new code; (sent, what to tell staff). A failed e-mail or SMS is reported, not raised: the code is
    void and on record (an outbox failure is likewise a state of the notice, not an error of the request)."""
    try:
        challenge = verification.send_code(session, case, method=method, actor=actor, clock=clock)
    except (DeliveryFailed, verification.SmsFailed) as exc:
        return False, f"확인 코드를 보내지 못했습니다: {exc.message} 잠시 뒤 다시 보내거나 다른 방법을 쓰세요"
    minutes = get_settings().verification_code_ttl_minutes
    how = "전자우편으로" if challenge.method == "email_code" else "문자 메시지(SMS)로"
    return True, f"{how} 확인 코드를 보냈습니다 ({minutes}분 동안 유효)"


# ------------------------------------------------------------------------------------------ routes


@router.get("", response_model=VerificationOut)
def get_verification(number: Number, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """The identity check: requirement, methods, status, checks done, the agent checklist, the newest code's state.
    Recorded in the audit log as a view of the case."""
    case = casework.case_for(session, principal, number)
    audit.record(session, "request.viewed", actor=principal.actor, org_id=case.org_id, request_id=case.id,
                 at=clock.now(), details={"via": principal.kind, "part": "verification"})
    return state(session, case)


@router.post("/start", response_model=VerificationOut)
def post_start(number: Number, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """Begin the check (idempotent while it is open); an agent's request at once asks for the checklist's
    documents by e-mail."""
    case = casework.case_for(session, principal, number)
    require_worker(principal, case)
    verification.start(session, case, actor=principal.actor, clock=clock)
    return state(session, case)


@router.post("/codes", response_model=CodeSentOut)
def post_code(number: Number, body: MethodIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """Send a new code to the requester's e-mail address or phone (older codes stop working); starts the check
    if needed. `sent` is false when delivery failed."""
    case = casework.case_for(session, principal, number)
    require_worker(principal, case)
    sent, message = send_code(session, case, body.method, actor=principal.actor, clock=clock)
    return {"sent": sent, "message": message, "verification": state(session, case)}


@router.post("/documents", response_model=VerificationOut)
def post_document(
    number: Number, body: DocumentIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> Any:
    """Record that the signed-in staff member looked at the requester's ID document (the kind only; nothing of
    the document is stored)."""
    case = casework.case_for(session, principal, number)
    require_worker(principal, case)
    verification.record_document_check(session, case, document_type=body.document_type, actor=principal.actor,
                                       clock=clock)
    return state(session, case)


@router.post("/checklist", response_model=VerificationOut)
def post_tick(number: Number, body: ItemIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """Tick one item of the agent checklist (법정대리인 / 위임); the last one completes the check."""
    case = casework.case_for(session, principal, number)
    require_worker(principal, case)
    verification.tick(session, case, body.item, actor=principal.actor, clock=clock)
    return state(session, case)


@router.post("/login", response_model=VerificationOut)
def post_login(number: Number, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """Record that the requester signed in to the organisation's service (staff checked it there)."""
    case = casework.case_for(session, principal, number)
    require_worker(principal, case)
    verification.confirm_login(session, case, actor=principal.actor, clock=clock)
    return state(session, case)
