"""본인확인: confirming that the requester is the data subject or a legitimate agent (영 46①) before a case
is reviewed.

What a case needs comes from the organisation's workflow (the `verification` steps its policy names) and from
the case itself:

- a request by the subject needs one identity proof, by any method the policy's steps allow
  (`POLICY_STEPS`): a code sent by e-mail or SMS, a login to the organisation's service, or a staff check of an
  identity document (always allowed: staff can look at an ID in person or as a copy);
- a request by an agent (법 38①) needs the staff checklist of its kind (`AGENT_CHECKLISTS`): a 법정대리인 of a
  child under 14 shows the family relation (가족관계증명서 etc.), a proxy shows the 위임장 and the principal's
  identity. The agent's own identity is an item of the checklist.

Codes (six digits, hashed, expiring, limited entries) and how they travel, by e-mail through the outbox
without ever being written to the database, or by SMS, are `dsar.verification_codes`.

When everything needed is confirmed, the case moves on with the workflow's `verify` transition. A requester who
does not finish is reminded once (`verification_remind_after_days`) and the case is closed with
`close_unverified` and its notice after `verification_close_after_days`; `sweep` does both and is safe to run
in several processes at once.

Documents are looked at, never stored here: a check records who looked, when, and which kind of document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dsar import audit, engine, notices
from dsar import verification_codes as codes
from dsar.calendar_kr import kst_date
from dsar.clock import Clock
from dsar.errors import Conflict, GuardFailed, InvalidInput, NotFound, TransitionError
from dsar.mail import Transport, default_transport
from dsar.models import Notice, Request, WorkflowVersion
from dsar.settings import get_settings
from dsar.verification_codes import (
    CODE_MASK,
    CodeCheck,
    LoggingSmsTransport,
    SmsFailed,
    SmsTransport,
    default_sms_transport,
)
from dsar.verification_models import Verification, VerificationChallenge, VerificationCheck

__all__ = [
    "AGENT_CHECKLISTS", "CODE_MASK", "CODE_METHODS", "DOCUMENT_TYPES", "POLICY_STEPS", "ChecklistItem", "CodeCheck",
    "LoggingSmsTransport", "SmsFailed", "SmsTransport", "check_code", "checklist", "confirm_login",
    "default_sms_transport", "record_document_check", "send_code", "start", "sweep", "tick",
]

# Methods of proving identity, in the order they are offered.
IDENTITY_METHODS = ("email_code", "phone_code", "login", "document")
CODE_METHODS = ("email_code", "phone_code")
# A policy's verification step → the identity methods it allows. 법정대리인 and 위임장 name agent evidence,
# which the checklists below cover (an agent's request always needs its checklist, whatever the policy says).
POLICY_STEPS: dict[str, tuple[str, ...]] = {
    "본인확인": ("email_code", "phone_code", "document"),
    "본인인증": ("phone_code",),
    "로그인": ("login",),
    "법정대리인": (),
    "위임장": (),
}
METHOD_LABELS = {"email_code": "전자우편 확인 코드", "phone_code": "휴대전화 확인 코드", "login": "로그인",
                 "document": "신분증 확인(담당자)", "checklist": "대리인 확인 서류(담당자)"}
REQUESTER_WAYS = {"email_code": "전자우편으로 받은 확인 코드 입력(본인 확인 화면에서 새 코드를 받으실 수 있습니다)",
                  "phone_code": "휴대전화로 받은 확인 코드 입력", "login": "서비스에 로그인하여 본인 확인",
                  "document": "신분증 사본(주민등록번호 뒷자리는 가려 주십시오)"}
DOCUMENT_TYPES: dict[str, str] = {
    "resident_card": "주민등록증",
    "driver_licence": "운전면허증",
    "passport": "여권",
    "alien_card": "외국인등록증",
    "mobile_id": "모바일 신분증",
    "disability_card": "장애인등록증",
    "youth_card": "청소년증",
}


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: str  # what the staff member confirms by ticking it
    ask: str | None = None  # what the requester is asked to send for it (None: follows from other items)


AGENT_CHECKLISTS: dict[str, tuple[ChecklistItem, ...]] = {
    "법정대리인": (
        ChecklistItem("relationship_proof", "가족관계증명서 등으로 법정대리인과 정보주체의 관계를 확인함",
                      "법정대리 관계를 증명하는 서류(가족관계증명서 등)"),
        ChecklistItem("subject_under_14",
                      "같은 서류로 정보주체가 만 14세 미만(또는 법정대리가 필요한 사람)임을 확인함"),
        ChecklistItem("representative_identity", "법정대리인 본인의 신분증을 확인함(사본은 보관하지 않음)",
                      "법정대리인의 신분증 사본(주민등록번호 뒷자리는 가려 주십시오)"),
    ),
    "위임": (
        ChecklistItem("power_of_attorney", "정보주체가 서명 또는 날인한 위임장을 확인함",
                      "정보주체가 서명 또는 날인한 위임장(개인정보 보호위원회 고시 서식)"),
        ChecklistItem("principal_identity", "위임한 정보주체의 신분증 사본을 확인함(사본은 보관하지 않음)",
                      "정보주체(위임하신 분)의 신분증 사본(주민등록번호 뒷자리는 가려 주십시오)"),
        ChecklistItem("agent_identity", "대리인 본인의 신분증을 확인함(사본은 보관하지 않음)",
                      "대리인의 신분증 사본(주민등록번호 뒷자리는 가려 주십시오)"),
        ChecklistItem("scope_covers_request", "위임장의 위임 범위에 이번 요구가 들어 있음을 확인함"),
    ),
}

STANDING_APPROVAL = "standing-rule:unverified_closure"


# ------------------------------------------------------------------------------------------- starting


def methods_for(definition: dict[str, Any]) -> list[str]:
    """Identity methods the organisation's verification steps allow; a staff document check always is."""
    allowed = {m for step in (definition.get("verification") or ["본인확인"]) for m in POLICY_STEPS.get(step, ())}
    allowed.add("document")
    return [m for m in IDENTITY_METHODS if m in allowed]


def start(session: Session, case: Request, *, actor: str, clock: Clock) -> Verification:
    """Begin the identity check (moving a just-received case to 본인확인); idempotent for an open check.

    An agent's request at once asks the agent (by e-mail, through the outbox) for the checklist's documents.
    Runs in the caller's transaction.
    """
    existing = _verification(session, case)
    if existing is not None and existing.status == "open":
        return existing
    wf = engine.workflow_of(session, case)
    if case.stage == wf.initial:
        engine.advance(session, case, "start_verification", actor=actor, clock=clock)
    if case.stage != "verifying":
        raise TransitionError(
            f"{case.number}은(는) '{wf.stage_label(case.stage)}' 단계라 본인확인을 시작할 수 없습니다",
            stage=case.stage,
        )
    s = get_settings()
    now = clock.now()
    requirement = case.agent_kind if case.agent_kind in AGENT_CHECKLISTS else "identity"
    v = existing or Verification(request_id=case.id or 0, requirement=requirement, remind_at=now, close_at=now)
    v.status, v.requirement, v.methods, v.started_at = "open", requirement, methods_for(_definition(session, case)), now
    v.remind_at = now + timedelta(days=s.verification_remind_after_days)
    v.close_at = now + timedelta(days=s.verification_close_after_days)
    v.reminded_at = v.completed_at = None
    session.add(v)
    session.flush()
    audit.record(session, "verification.started", actor=actor, org_id=case.org_id, request_id=case.id, at=now,
                 details={"requirement": requirement, "methods": v.methods, "close_at": v.close_at.isoformat()})
    if requirement != "identity" and case.requester_email:
        notices.create(session, case, "verification_request", actor=actor, clock=clock,
                       decision=_documents_request(v, clock))
    return v


def _documents_request(v: Verification, clock: Clock) -> dict[str, Any]:
    asks = [i.ask for i in AGENT_CHECKLISTS[v.requirement] if i.ask] if v.requirement in AGENT_CHECKLISTS else []
    if not asks:
        asks = ["본인 확인을 위한 신분증 사본(주민등록번호 뒷자리는 가려 주십시오)"]
    return {"required_items": asks, "reply_days": _days_to_close(v, clock)}


def _days_to_close(v: Verification, clock: Clock) -> int:
    return max((kst_date(v.close_at) - kst_date(clock.now())).days, 0)


# --------------------------------------------------------------------------------------------- codes


def send_code(
    session: Session, case: Request, *, method: str, actor: str, clock: Clock,
    mail: Transport | None = None, sms: SmsTransport | None = None,
) -> VerificationChallenge:
    """Make a new code (older pending codes stop working), commit, then send it by e-mail or SMS.

    Commits the caller's session: the code must be on record before it leaves, and is sent only after.
    Raises `DeliveryFailed` / `SmsFailed` when sending fails (the code is then void; ask for a new one).
    """
    v = start(session, case, actor=actor, clock=clock)
    if method not in CODE_METHODS or method not in v.methods:
        offered = ", ".join(m for m in v.methods if m in CODE_METHODS) or "없음"
        raise InvalidInput(f"이 조직의 본인확인 방법에 '{method}'이(가) 없습니다 (가능: {offered})", field="method")
    address = case.requester_email if method == "email_code" else case.requester_phone
    if not address:
        what = "전자우편 주소" if method == "email_code" else "휴대전화 번호"
        raise InvalidInput(f"{case.number}에 신청인의 {what}가 없어 확인 코드를 보낼 수 없습니다: 다른 방법을 쓰세요",
                           field="method")
    s = get_settings()
    sent = session.exec(select(VerificationChallenge.id).where(VerificationChallenge.request_id == case.id)).all()
    if len(sent) >= s.verification_max_codes:
        raise GuardFailed(
            f"{case.number}에는 확인 코드를 이미 {len(sent)}번 보냈습니다: 담당자가 신분증으로 확인하세요",
            missing=["verification_max_codes"],
        )
    codes.retire_pending(session, case.id or 0, status="superseded")
    now = clock.now()
    code, salt = codes.new_code()
    challenge = VerificationChallenge(
        request_id=case.id or 0, method=method, salt=salt, code_hash=codes.code_hash(code, salt), created_at=now,
        expires_at=now + timedelta(minutes=s.verification_code_ttl_minutes), max_attempts=s.verification_max_attempts,
    )
    session.add(challenge)
    session.flush()
    if method == "email_code":
        item = (f"확인 코드 {CODE_MASK}: 본인 확인 화면에 입력해 주십시오. {s.verification_code_ttl_minutes}분 동안 "
                f"유효하며 {s.verification_max_attempts}번까지 입력할 수 있습니다. 시간이 지나면 새 코드를 받으실 수 "
                "있습니다")
        notice = notices.create(session, case, "verification_request", actor=actor, clock=clock,
                                decision={"required_items": [item], "reply_days": _days_to_close(v, clock)})
        notice.status = codes.HELD
        challenge.notice_id = notice.id
        session.add_all([notice, challenge])
    audit.record(session, "verification.code_issued", actor=actor, org_id=case.org_id, request_id=case.id, at=now,
                 details={"challenge_id": challenge.id, "method": method,
                          "expires_at": challenge.expires_at.isoformat()})
    session.commit()
    org_name = _definition(session, case)["organisation"]["name"]
    if method == "email_code":
        codes.send_held(session, challenge, code, mail or default_transport(), org_id=case.org_id,
                        sender_name=org_name)
    else:
        text = (f"[{org_name}] 개인정보 요구 {case.number}의 본인 확인 코드는 {code}입니다. "
                f"{s.verification_code_ttl_minutes}분 안에 입력해 주십시오.")
        codes.send_sms(session, challenge, text, address, sms or default_sms_transport(), org_id=case.org_id)
    return challenge


def check_code(session: Session, case: Request, code: str, *, actor: str, clock: Clock) -> CodeCheck:
    """Compare an entered code with the case's current one; on success record the proof and move the case on.

    Runs in the caller's transaction and reports a wrong code by its result, not an exception, so that the
    caller commits the attempt count: a wrong guess must be counted even though nothing else changed.
    """
    now = clock.now()
    result, challenge, counted = codes.compare(session, case.id or 0, code, now)
    if challenge is None or not counted:
        return result
    if result.ok:
        audit.record(session, "verification.code_accepted", actor=actor, org_id=case.org_id, request_id=case.id,
                     at=now, details={"challenge_id": challenge.id, "method": challenge.method,
                                      "attempt": challenge.attempts})
        _record(session, case, challenge.method, "", actor=actor, at=now)
        _complete_if_done(session, case, actor=actor, clock=clock)
    else:
        audit.record(session, "verification.code_rejected", actor=actor, org_id=case.org_id, request_id=case.id,
                     at=now, details={"challenge_id": challenge.id, "attempt": challenge.attempts,
                                      "locked": result.outcome == "locked"})
    return result


# ------------------------------------------------------------------------------------ staff checks


def confirm_login(session: Session, case: Request, *, actor: str, clock: Clock) -> Verification:
    """The requester proved who they are by signing in to the organisation's service (the caller checked it)."""
    v = _open_for(session, case, "login")
    _record(session, case, "login", "", actor=actor, at=clock.now())
    audit.record(session, "verification.login_confirmed", actor=actor, org_id=case.org_id, request_id=case.id,
                 at=clock.now(), details={"method": "login"})
    _complete_if_done(session, case, actor=actor, clock=clock)
    return v


def record_document_check(
    session: Session, case: Request, *, document_type: str, actor: str, clock: Clock
) -> VerificationCheck:
    """A staff member looked at the requester's identity document (in person or a copy that is not kept).

    Only who, when and which kind of document are recorded: no number, no image.
    """
    if document_type not in DOCUMENT_TYPES:
        raise InvalidInput(f"신분증 종류 '{document_type}'을(를) 모릅니다. 가능: "
                           + ", ".join(f"{k}({v})" for k, v in DOCUMENT_TYPES.items()), field="document_type")
    _open_for(session, case, "document")
    now = clock.now()
    check = _record(session, case, "document", document_type, actor=actor, at=now)
    audit.record(session, "verification.document_checked", actor=actor, org_id=case.org_id, request_id=case.id,
                 at=now, details={"document_type": document_type})
    _complete_if_done(session, case, actor=actor, clock=clock)
    return check


def tick(session: Session, case: Request, item: str, *, actor: str, clock: Clock) -> VerificationCheck:
    """Tick one item of the agent checklist of the case's kind; ticking twice changes nothing."""
    kind = case.agent_kind
    if kind not in AGENT_CHECKLISTS:
        raise InvalidInput(f"{case.number}은(는) 대리인 요구가 아니어서 대리인 확인 항목이 없습니다", field="item")
    codes = [i.code for i in AGENT_CHECKLISTS[kind]]
    if item not in codes:
        raise InvalidInput(f"'{kind}' 확인 항목에 '{item}'이(가) 없습니다. 가능: {', '.join(codes)}", field="item")
    v = _verification(session, case)
    if v is None or v.status != "open":
        raise TransitionError(f"{case.number}의 본인확인이 진행 중이 아닙니다: 먼저 본인확인을 시작하세요")
    done = session.exec(select(VerificationCheck).where(
        VerificationCheck.request_id == case.id, VerificationCheck.method == "checklist",
        VerificationCheck.item == item)).first()
    if done is not None:
        return done
    now = clock.now()
    check = _record(session, case, "checklist", item, actor=actor, at=now)
    audit.record(session, "verification.checklist_ticked", actor=actor, org_id=case.org_id, request_id=case.id,
                 at=now, details={"agent_kind": kind, "item": item})
    _complete_if_done(session, case, actor=actor, clock=clock)
    return check


def checklist(session: Session, case: Request) -> list[dict[str, Any]]:
    """The agent checklist of the case with what is ticked, by whom and when (empty for a subject's request)."""
    items = AGENT_CHECKLISTS.get(case.agent_kind or "", ())
    ticked = {c.item: c for c in session.exec(select(VerificationCheck).where(
        VerificationCheck.request_id == case.id, VerificationCheck.method == "checklist"))}
    return [{"item": i.code, "label": i.label, "done": i.code in ticked,
             "by": ticked[i.code].actor if i.code in ticked else None,
             "at": ticked[i.code].at.isoformat() if i.code in ticked else None} for i in items]


def _open_for(session: Session, case: Request, method: str) -> Verification:
    v = _verification(session, case)
    if v is None or v.status != "open":
        raise TransitionError(f"{case.number}의 본인확인이 진행 중이 아닙니다: 먼저 본인확인을 시작하세요")
    if method not in v.methods:
        raise InvalidInput(f"이 조직의 본인확인 방법에 '{METHOD_LABELS[method]}'이(가) 없습니다 "
                           f"(가능: {', '.join(METHOD_LABELS[m] for m in v.methods)})", field="method")
    return v


def _record(session: Session, case: Request, method: str, item: str, *, actor: str, at: datetime
            ) -> VerificationCheck:
    existing = session.exec(select(VerificationCheck).where(
        VerificationCheck.request_id == case.id, VerificationCheck.method == method,
        VerificationCheck.item == item)).first()
    if existing is not None:
        return existing
    check = VerificationCheck(request_id=case.id or 0, method=method, item=item, actor=actor, at=at)
    session.add(check)
    session.flush()
    return check


def _complete_if_done(session: Session, case: Request, *, actor: str, clock: Clock) -> bool:
    v = _verification(session, case)
    if v is None or v.status != "open":
        return False
    checks = list(session.exec(select(VerificationCheck).where(VerificationCheck.request_id == case.id)))
    if v.requirement == "identity":
        proofs = sorted({c.method for c in checks if c.method in IDENTITY_METHODS})
        if not proofs:
            return False
    else:
        ticked = {c.item for c in checks if c.method == "checklist"}
        if any(i.code not in ticked for i in AGENT_CHECKLISTS[v.requirement]):
            return False
        proofs = ["checklist"]
    v.status, v.completed_at = "verified", clock.now()
    session.add(v)
    if case.stage == "verifying":
        engine.advance(session, case, "verify", actor=actor, clock=clock,
                       reason="본인확인 완료: " + ", ".join(METHOD_LABELS[p] for p in proofs))
    return True


# ------------------------------------------------------------------------------------------- sweep


def sweep(session: Session, *, clock: Clock) -> list[int]:
    """Expire codes, remind requesters once, close cases still unverified, and close those whose closure notice
    went out. Each case is claimed with a compare-and-set on its `Verification` row and committed on its own,
    so a second sweep running at the same time skips it instead of doing it twice. Returns the notices queued
    (deliver them)."""
    now = clock.now()
    codes.expire(session, now)
    session.commit()
    queued: list[int] = []
    remind = select(Verification.id).where(
        Verification.status == "open", col(Verification.reminded_at).is_(None), col(Verification.remind_at) <= now,
        col(Verification.close_at) > now)
    for vid in session.exec(remind).all():
        queued += _attempt(session, lambda vid=vid: _remind(session, vid, clock))
    close = select(Verification.id).where(Verification.status == "open", col(Verification.close_at) <= now)
    for vid in session.exec(close).all():
        queued += _attempt(session, lambda vid=vid: _close_unverified(session, vid, clock))
    for vid in session.exec(select(Verification.id).where(Verification.status == "unverified")).all():
        _attempt(session, lambda vid=vid: _finish(session, vid, clock))
    return queued


def _attempt(session: Session, step: Any) -> list[int]:
    try:
        ids = step() or []
        session.commit()
        return ids
    except (IntegrityError, Conflict):  # another sweep got there first
        session.rollback()
        return []


def _claim(session: Session, vid: int | None, *, where: Any, **values: Any) -> Verification | None:
    """Compare-and-set on one Verification row: the caller owns the step only if the row still matched."""
    won = session.exec(update(Verification).where(col(Verification.id) == vid, where).values(**values)
                       ).rowcount == 1  # type: ignore[call-overload]
    return session.get(Verification, vid, populate_existing=True) if won else None


def _remind(session: Session, vid: int | None, clock: Clock) -> list[int]:
    v = _claim(session, vid, where=col(Verification.reminded_at).is_(None), reminded_at=clock.now())
    case = session.get(Request, v.request_id, populate_existing=True) if v else None
    if v is None or case is None or case.closed or not case.requester_email:
        return []
    if v.requirement == "identity":
        ways = ", ".join(REQUESTER_WAYS[m] for m in v.methods)
        decision = {"required_items": [f"다음 중 한 가지 방법의 본인 확인: {ways}"],
                    "reply_days": _days_to_close(v, clock)}
    else:
        decision = _documents_request(v, clock)
    notice = notices.create(session, case, "verification_request", actor="scheduler", clock=clock,
                            decision=decision, dedupe_key=f"verification_reminder:{case.id}")
    return [notice.id or 0]


def _close_unverified(session: Session, vid: int | None, clock: Clock) -> list[int]:
    v = _claim(session, vid, where=col(Verification.status) == "open", status="unverified")
    case = session.get(Request, v.request_id, populate_existing=True) if v else None
    if v is None or case is None:
        return []
    wf = engine.workflow_of(session, case)
    t = wf.transition("close_unverified")
    if case.closed or t is None or case.stage not in t.sources:
        v.status = "superseded"  # staff moved the case on by hand
        session.add(v)
        return []
    codes.retire_pending(session, case.id or 0, status="expired")
    approval = STANDING_APPROVAL if get_settings().unverified_closure_preapproved else None
    deadline = kst_date(v.close_at)
    engine.advance(session, case, "close_unverified", actor="scheduler", clock=clock, officer_approval=approval,
                   reason=f"본인 확인 기한({deadline.year}년 {deadline.month}월 {deadline.day}일)까지 "
                          "정보주체 본인 또는 정당한 대리인임을 확인할 수 없었습니다.")
    notice = session.exec(select(Notice).where(Notice.request_id == case.id, Notice.kind == "unverified_closure")
                          .order_by(col(Notice.id).desc())).first()
    return [notice.id or 0] if notice is not None and notice.status == "queued" else []


def _finish(session: Session, vid: int | None, clock: Clock) -> None:
    v = session.get(Verification, vid, populate_existing=True)
    case = session.get(Request, v.request_id, populate_existing=True) if v else None
    if v is None or case is None:
        return
    if not case.closed and case.stage == "notifying":
        try:
            engine.advance(session, case, "close", actor="scheduler", clock=clock)
        except GuardFailed:  # the closure notice has not gone out yet (or still awaits the officer)
            return
    if case.closed:
        _claim(session, vid, where=col(Verification.status) == "unverified", status="finished")


# ------------------------------------------------------------------------------------------ helpers


def _verification(session: Session, case: Request) -> Verification | None:
    return session.exec(select(Verification).where(Verification.request_id == case.id)).first()


def _definition(session: Session, case: Request) -> dict[str, Any]:
    version = session.get(WorkflowVersion, case.workflow_version_id) if case.workflow_version_id else None
    if version is None:
        raise NotFound(f"{case.number}에는 워크플로가 없습니다: 먼저 조직을 지정하세요")
    return version.definition

