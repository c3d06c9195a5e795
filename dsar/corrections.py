"""Staff correcting what intake decided (issue #4, item 5): the classifier is a rule set and will sometimes be wrong.

Three corrections, each audited as `request.corrected` with the values before and after (rights, stages, due
dates, agent kinds: never the requester's data):

- a message kept as not a request, or quarantined, opens the cases staff choose (admin, who reviews those
  messages); the cases run from the message's receipt time, exactly as intake would have opened them, so the
  clock is right. A quarantined message whose sender cannot be read opens none: nobody could be answered;
- a case's right, only while the case has not left its first stage (nothing has been decided or sent on the
  strength of the wrong right yet): it moves to that right's workflow of the same pinned version, restarts at
  its first stage and its due date is recomputed from the same receipt. A requester who already holds a 접수
  확인 naming the wrong right gets a corrected one (the same kind, with a note saying what changed);
- a case's agent kind (법정대리인, 위임 or none), while the case is open.

A quarantined message can also be processed again (after a fix), audited as `inbound.reprocessed`.

Corrected cases keep the correction in `classification["corrections"]`, and a corrected right's evidence reads
"직원 정정" instead of the words that had decided it. Nothing here commits: the caller commits once (only a
reprocessing that raises rolls back, see `reprocess`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, func, select

from dsar import audit, engine, notices
from dsar.auth.roles import Principal, require_admin, require_case_worker
from dsar.clock import Clock
from dsar.errors import Conflict, InvalidInput, NotFound, TransitionError
from dsar.intake import service
from dsar.intake.parse import parse_message
from dsar.intake.routing import route
from dsar.intake.webform import AGENT_KINDS, parse_rights
from dsar.letters.filters import josa, korean_date, right_phrase
from dsar.models import InboundMessage, Notice, Request, StageEvent, WorkflowVersion
from dsar.pii import mask_pii
from dsar.rights import Right

log = logging.getLogger(__name__)

STAFF_EVIDENCE = "직원 정정"
NOT_A_REQUEST = "not_a_request"
QUARANTINED = "quarantined"
REVIEWED = (NOT_A_REQUEST, QUARANTINED)  # the messages staff review: intake opened no case for them
NO_SENDER = ("보낸 사람 주소를 읽을 수 없어 이 메시지로는 사건을 열 수 없습니다(회신할 곳이 없습니다). 원문에서 "
             "요청인을 확인한 뒤 직원 접수(콘솔의 '직원 접수' 또는 POST /intake/staff)로 요청인의 성명·연락처와 "
             "받은 시각을 넣어 접수하세요 (no readable sender: use staff entry)")


def right_choices(session: Session, case: Request) -> list[str]:
    """The rights this case may be corrected to now: those its pinned workflow version defines (any, while
    unrouted), other than its own; none once it is closed or has left its first stage."""
    if case.closed or not _at_first_stage(session, case):
        return []
    offered = [r.value for r in Right]
    if case.workflow_version_id is not None:
        version = session.get(WorkflowVersion, case.workflow_version_id)
        offered = [r for r in offered if version is not None and r in version.definition.get("workflows", {})]
    return [r for r in offered if r != case.right]


def _at_first_stage(session: Session, case: Request) -> bool:
    moved = session.exec(select(StageEvent.id).where(StageEvent.request_id == case.id)).first()
    if moved is not None:
        return False
    if case.workflow_version_id is None or case.right is None:
        return case.stage == engine.UNROUTED
    return case.stage == engine.workflow_of(session, case).initial


def change_right(
    session: Session, principal: Principal, case: Request, right: str, *, clock: Clock,
    expected_version: int | None = None,
) -> tuple[bool, Notice | None]:
    """Correct the case's right (see the module docstring). Returns whether anything changed (False when it
    already is that right) and the corrected 접수 확인 made for the requester, if one was: hand it to the outbox
    after commit when it is queued."""
    require_case_worker(principal, org_id=case.org_id, assignee_id=case.assignee_id)
    right = _one_right(right)
    _check_version(case, expected_version)
    _check_open(case)
    if right == case.right:
        return False, None
    if right not in right_choices(session, case):
        if not _at_first_stage(session, case):
            raise TransitionError(
                f"{case.number}은(는) 이미 첫 단계를 지나 요구 종류를 바꿀 수 없습니다. 지금 사건을 종결하고 "
                f"{right} 요구를 새 사건으로 접수하세요 (right can only be corrected at the first stage)")
        raise InvalidInput(f"이 조직의 워크플로에는 {right} 요구가 없습니다 (right not in the workflow)", field="right")
    siblings = _siblings(session, case)
    taken = next((s for s in siblings if s.right == right), None)
    if taken is not None:
        raise Conflict(f"같은 메시지로 연 {taken.number}이(가) 이미 {right} 요구입니다: 그 사건에서 처리하세요")
    now, old, old_due, before = clock.now(), case.right, case.due_date, _snapshot(case)
    acknowledged = _acknowledged(session, case)
    case.right = right
    if case.workflow_version_id is not None:
        wf = engine.workflow_of(session, case)
        case.stage = wf.initial
        engine.refresh_due(case, engine.clock_rules(wf), now)
    evidence = {k: v for k, v in case.classification.get("evidence", {}).items() if k != old}
    case.classification = _with_correction({**case.classification, "evidence": {**evidence, right: [STAFF_EVIDENCE]}},
                                           "right", old, right, principal.actor, now)
    for c in [case, *siblings]:
        c.rights = list(dict.fromkeys(right if r == old else r for r in c.rights)) or [right]
        c.updated_at = now
    _save(session, [case, *siblings])
    _record(session, principal, case, "right", before, _snapshot(case), now)
    if acknowledged is None or old is None:
        return True, None
    note = correction_note(old, right, old_due, case.due_date)
    corrected = notices.create(session, case, acknowledged, actor=principal.actor, clock=clock,
                               decision={"note": note})
    _withdraw_unsent(session, principal, case, acknowledged, corrected, now)
    return True, corrected


def _withdraw_unsent(
    session: Session, principal: Principal, case: Request, kind: str, corrected: Notice, at: datetime
) -> None:
    """An earlier 접수 확인 that has not gone out yet (waiting, or failed and waiting for a retry) would tell the
    requester the wrong right after all: it is voided, so only the corrected one is sent. One conditional UPDATE,
    so an outbox that claimed it first sends it and the corrected one follows."""
    void = (update(Notice).where(col(Notice.request_id) == case.id, col(Notice.kind) == kind,
                                 col(Notice.id) != corrected.id, col(Notice.status).in_(["queued", "failed"]))
            .values(status="void").returning(Notice.id))
    withdrawn = list(session.execute(void).scalars())
    if withdrawn:
        audit.record(session, "notice.withdrawn", actor=principal.actor, org_id=case.org_id, request_id=case.id,
                     at=at, details={"notice_ids": withdrawn, "replaced_by": corrected.id})


def _acknowledged(session: Session, case: Request) -> str | None:
    """The kind of 접수 확인 the requester already holds for this case, read before its right changes; None
    when none was made (an unrouted case, a workflow without one) or there is no e-mail to send a new one to."""
    if case.workflow_version_id is None or case.right is None or not case.requester_email:
        return None
    kind = engine.workflow_of(session, case).spec.get("acknowledgement")
    if not kind:
        return None
    made = session.exec(select(Notice.id).where(Notice.request_id == case.id, Notice.kind == kind,
                                                col(Notice.status) != "void")).first()
    return kind if made is not None else None


def correction_note(old: str, new: str, old_due: date | None, new_due: date | None) -> str:
    """What the corrected 접수 확인 tells the requester first: which request type they were told, which it is,
    and the due date (recounted for the new right, which may have another period)."""
    was, now = josa(f"'{right_phrase(old)}'", "으로/로"), josa(f"'{right_phrase(new)}'", "으로/로")
    text = (f"앞서 보내 드린 접수 확인에는 요구 종류가 {was} 적혀 있었습니다. 보내 주신 내용을 다시 살펴 요구 "
            f"종류를 {now} 바로잡았습니다.")
    if new_due is not None and old_due is not None and new_due != old_due:
        text += (f" 요구 종류에 따라 처리 기간이 달라 처리 기한도 {korean_date(old_due, weekday=True)}에서 "
                 f"{josa(korean_date(new_due, weekday=True), '으로/로')} 바뀌었습니다.")
    elif new_due is not None:
        text += f" 처리 기한은 {korean_date(new_due, weekday=True)}까지로 달라지지 않았습니다."
    return text + " 아래가 바로잡은 접수 내용이며, 앞서 보내 드린 접수 확인 대신 이 안내를 기준으로 해 주십시오."


def change_agent(
    session: Session, principal: Principal, case: Request, agent_kind: str | None, *, clock: Clock,
    expected_version: int | None = None,
) -> bool:
    """Correct whether an agent asks, and which kind (None: the data subject asks in person)."""
    require_case_worker(principal, org_id=case.org_id, assignee_id=case.assignee_id)
    _check_agent_kind(agent_kind)
    _check_version(case, expected_version)
    _check_open(case)
    if agent_kind == case.agent_kind:
        return False
    now, before = clock.now(), {"agent_kind": case.agent_kind}
    case.classification = _with_correction(case.classification, "agent_kind", case.agent_kind, agent_kind,
                                           principal.actor, now)
    case.agent_kind, case.updated_at = agent_kind, now
    _save(session, [case])
    _record(session, principal, case, "agent_kind", before, {"agent_kind": agent_kind}, now)
    return True


def review_list(
    session: Session, principal: Principal, *, status: str | None = None, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Messages intake opened no case for, newest first: kept as not a request, quarantined, or (`status`) one
    of the two (admin only: they belong to no organisation yet). Like every list, no personal data: when,
    where from, the masked subject, what intake saw and, for a quarantined message, why."""
    require_admin(principal)
    if status is not None and status not in REVIEWED:
        raise InvalidInput(f"status는 {' 또는 '.join(REVIEWED)}이어야 합니다 (status)", field="status")
    where = col(InboundMessage.status).in_([status] if status else REVIEWED)
    rows = session.exec(select(InboundMessage).where(where).order_by(col(InboundMessage.id).desc())
                        .limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(InboundMessage).where(where)).one()
    return [_item(m) for m in rows], int(total)


def _item(m: InboundMessage) -> dict[str, Any]:
    return {"inbound_id": m.id, "received_at": m.received_at, "source": m.source, "status": m.status,
            "subject": m.summary.get("subject"), "language": m.summary.get("classification", {}).get("language"),
            "attachments": len(m.summary.get("attachments", [])), "problem_code": m.problem_code,
            "problem_message": mask_pii(m.problem_message).text if m.problem_message else None}


def for_review(session: Session, principal: Principal, inbound_id: int) -> InboundMessage:
    """A message intake kept as not a request or quarantined (admin only); any other is "not found"."""
    require_admin(principal)
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None or inbound.status not in REVIEWED:
        raise NotFound(f"'요구 아님'으로 분류되었거나 격리된 메시지 {inbound_id}이(가) 없습니다 "
                       "(no such message to review)")
    return inbound


def review_detail(session: Session, principal: Principal, inbound: InboundMessage, *, clock: Clock) -> dict[str, Any]:
    """What staff need to decide whether the message asks for something: sender, masked text, attachments, the
    organisation it routes to, and why it was quarantined. For a quarantined message these are what could still
    be read. Reading it is an audited access to personal data (inbound.viewed)."""
    require_admin(principal)
    audit.record(session, "inbound.viewed", actor=principal.actor, at=clock.now(),
                 details={"inbound_id": inbound.id, "via": principal.kind})
    parsed = parse_message(inbound.raw)
    org = route(session, parsed.recipients)
    return {**_item(inbound), "sender": parsed.sender, "sender_name": parsed.sender_name,
            "recipients": parsed.recipients, "subject": mask_pii(parsed.subject).text,
            "text": mask_pii(parsed.text).text, "org": {"slug": org.slug, "name": org.name} if org else None,
            "attachment_names": [a.filename for a in parsed.attachments],
            "agent_kind": inbound.summary.get("classification", {}).get("agent_kind"),
            "rights": [r.value for r in Right]}


def open_cases(
    session: Session, principal: Principal, inbound: InboundMessage, rights: list[str], *, clock: Clock,
    agent_kind: str | None,
) -> list[Request]:
    """Open one case per right staff chose for a not-a-request or quarantined message, the way intake opens them
    (routing, duplicate link, acknowledgement), from the message's receipt time. A message without a readable
    sender is refused: staff enter that request by hand (staff entry), with the requester's details. Returns
    the cases; hand `service.queued_notices` to the outbox after commit."""
    require_admin(principal)
    try:
        chosen = parse_rights(rights)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="rights") from None
    if not chosen:
        raise InvalidInput("열 사건의 요구 종류를 하나 이상 고르세요 (choose at least one right)", field="rights")
    classified = inbound.summary.get("classification", {})
    _check_agent_kind(agent_kind)
    parsed = parse_message(inbound.raw)
    if not parsed.sender:
        raise InvalidInput(NO_SENDER, field="sender")
    received_at = service.arrival_time(inbound, parsed)
    org, now = route(session, parsed.recipients), clock.now()
    subject = mask_pii(parsed.subject).text
    was = {"inbound_id": inbound.id, "status": inbound.status}
    if inbound.problem_code:
        was["problem_code"] = inbound.problem_code
    classification = _with_correction(
        {"evidence": {r: [STAFF_EVIDENCE] for r in chosen}, "language": classified.get("language")},
        "not_a_request", True, False, principal.actor, now)
    cases = []
    for right in chosen:
        duplicate = service.duplicate_of(session, parsed.sender, right, received_at)
        cases.append(engine.open_case(
            session, org=org, right=right, rights=chosen, received_at=received_at, actor=principal.actor,
            clock=clock, inbound_id=inbound.id, channel="web" if inbound.source == "web" else "email",
            requester_email=parsed.sender, requester_name=parsed.sender_name, agent_kind=agent_kind,
            subject=subject, details=mask_pii(parsed.text).text,
            classification=classification, duplicate_of_id=duplicate.id if duplicate else None,
        ))
    inbound.status, inbound.problem_code, inbound.problem_message = "processed", None, None
    inbound.summary = {  # a quarantined message has no summary yet: what the case page shows of it
        "subject": subject, "sender": parsed.sender, "recipients": parsed.recipients, **inbound.summary,
        "classification": {**classified, "rights": chosen, "not_a_request": False, "agent_kind": agent_kind,
                           "corrected_by": principal.actor}}
    session.add(inbound)
    for case in cases:  # field "not_a_request": intake opened no case for the message, staff opened these
        _record(session, principal, case, "not_a_request", was,
                {"inbound_id": inbound.id, "status": "processed", "rights": chosen, "right": case.right}, now)
    return cases


def reprocess(session: Session, principal: Principal, inbound: InboundMessage, *, clock: Clock) -> service.IntakeResult:
    """Run intake again on a quarantined message (after a fix: a parser or template error, `processing_failed`):
    back to `stored`, then `service.process`, in the caller's transaction, audited as `inbound.reprocessed`
    with the status and reason before and after. It may be quarantined again (the result says why), kept as
    not a request, or open its cases; hand `service.queued_notices` to the outbox after commit.

    If processing raises, the transaction is rolled back (nothing it did half-way stays) and the message is
    quarantined as `processing_failed` again, with the attempt recorded, as the intake worker does."""
    require_admin(principal)
    inbound_id = inbound.id or 0
    before = {"status": inbound.status, "problem_code": inbound.problem_code}
    _back_to_stored(session, inbound_id)
    try:
        result = service.process(session, inbound_id, clock=clock, actor=principal.actor)
    except OperationalError:
        raise  # the database is away: nothing changed, the message stays quarantined
    except Exception as exc:
        log.exception("reprocessing inbound %s failed; quarantined again", inbound_id, extra={"inbound_id": inbound_id})
        session.rollback()
        _back_to_stored(session, inbound_id)
        service.quarantine_failed(session, inbound_id, exc, actor=principal.actor)
        result = service.result_of(session, session.get_one(InboundMessage, inbound_id))
    audit.record(session, "inbound.reprocessed", actor=principal.actor, at=clock.now(), details={
        "inbound_id": inbound_id, "before": before,
        "after": {"status": result.status, "problem_code": (result.problem or {}).get("code"), "cases": result.cases}})
    return result


def _back_to_stored(session: Session, inbound_id: int) -> None:
    """Put a quarantined message back to `stored` with one conditional UPDATE. It takes the row's lock, so two
    admins reprocessing at once cannot both open cases: the second finds it no longer quarantined."""
    claim = (update(InboundMessage)
             .where(col(InboundMessage.id) == inbound_id, col(InboundMessage.status) == QUARANTINED)
             .values(status="stored", problem_code=None, problem_message=None))
    if session.exec(claim).rowcount != 1:  # type: ignore[call-overload]
        raise Conflict(f"메시지 {inbound_id}은(는) 격리된 상태가 아니어서 다시 처리할 수 없습니다: 새로 고친 뒤 "
                       "확인하세요 (only a quarantined message can be reprocessed)")


def _one_right(value: str) -> str:
    try:
        return Right.parse(value.strip()).value
    except ValueError:
        known = ", ".join(r.value for r in Right)
        raise InvalidInput(f"알 수 없는 요구 종류 '{value[:20]}'입니다. 가능한 값: {known}", field="right") from None


def _check_agent_kind(value: str | None) -> None:
    if value is not None and value not in AGENT_KINDS:
        raise InvalidInput(f"대리인 구분은 {', '.join(AGENT_KINDS)} 중 하나이거나 없음(본인)이어야 합니다 "
                           "(agent_kind)", field="agent_kind")


def _check_open(case: Request) -> None:
    if case.closed:
        raise TransitionError(f"{case.number}은(는) 이미 종결되어 고칠 수 없습니다 (case is closed)")


def _check_version(case: Request, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != case.row_version:
        raise Conflict(f"{case.number}은(는) 그 사이 다른 사람이 변경했습니다: 새로 고친 뒤 다시 시도하세요")


def _siblings(session: Session, case: Request) -> list[Request]:
    """The other cases opened from the same message (one per right it asked for)."""
    if case.inbound_id is None:
        return []
    return list(session.exec(select(Request).where(Request.inbound_id == case.inbound_id, col(Request.id) != case.id)))


def _snapshot(case: Request) -> dict[str, Any]:
    return {"right": case.right, "stage": case.stage, "due": case.due_date.isoformat() if case.due_date else None}


def _with_correction(
    classification: dict[str, Any], what: str, before: Any, after: Any, actor: str, at: datetime
) -> dict[str, Any]:
    entry = {"field": what, "before": before, "after": after, "by": actor, "at": at.isoformat()}
    return {**classification, "corrections": [*classification.get("corrections", []), entry]}


def _save(session: Session, cases: list[Request]) -> None:
    for case in cases:
        session.add(case)
    try:
        session.flush()  # the row-version check, as in the engine
    except StaleDataError as exc:
        raise Conflict("그 사이 다른 사람이 사건을 변경했습니다: 새로 고친 뒤 다시 시도하세요") from exc


def _record(
    session: Session, principal: Principal, case: Request, what: str, before: dict[str, Any],
    after: dict[str, Any], at: datetime,
) -> None:
    audit.record(session, "request.corrected", actor=principal.actor, org_id=case.org_id, request_id=case.id, at=at,
                 details={"field": what, "before": before, "after": after})
