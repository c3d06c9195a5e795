"""Intake: store every message raw first, then parse, classify, thread, deduplicate, route and open cases.

`store` and `process` are separate steps with a commit between them: once `store` returns, the message is
safe in the database whatever happens next, and `process` (a Celery task, or inline) can be retried.
Processing the same message twice opens no second case.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dsar import audit, engine
from dsar.clock import Clock
from dsar.crypto import lookup_hash
from dsar.db import give_ids
from dsar.intake.bounces import is_bounce, record_bounce
from dsar.intake.classify import classify
from dsar.intake.parse import ParsedMessage, parse_message, received_stamp
from dsar.intake.routing import route
from dsar.intake.webform import form_rights
from dsar.models import InboundMessage, Notice, Organisation, Request
from dsar.pii import mask_pii
from dsar.rights import Right
from dsar.settings import get_settings

CASE_NUMBER = re.compile(r"DSAR-\d{4}-\d{6}", re.IGNORECASE)
FORM_EVIDENCE = "홈페이지 신청서"  # a right the requester ticked on the web form


@dataclass
class IntakeResult:
    """What became of one message; the keys of `dsar intake eml --json`."""

    inbound_id: int
    status: str  # processed | quarantined | not_a_request | bounce | stored
    request_id: str | None = None
    cases: list[str] = field(default_factory=list)
    org: str | None = None
    rights: list[str] = field(default_factory=list)
    agent: bool = False
    agent_kind: str | None = None
    not_a_request: bool = False
    duplicate_of: str | None = None
    thread_of: str | None = None
    due: str | None = None
    problem: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _header_message_id(raw: bytes) -> str | None:
    try:
        value = BytesHeaderParser().parsebytes(raw[:65536]).get("Message-ID")
    except Exception:  # a message too broken to read headers from is still stored
        return None
    value = str(value or "").strip().strip("<>").strip()
    return value[:998] or None


def store(session: Session, raw: bytes, *, source: str, clock: Clock) -> tuple[InboundMessage, bool]:
    """Keep the message exactly as it came. The same Message-ID twice gives back the first row (created=False)."""
    return store_many(session, [(raw, source)], clock=clock)[0]


def store_many(
    session: Session, messages: list[tuple[bytes, str]], *, clock: Clock
) -> list[tuple[InboundMessage, bool]]:
    """Keep several messages (raw bytes, source) in one go: one insert for all the new ones. A Message-ID seen
    before, in the database or earlier in the same list, gives back the first row (created=False)."""
    ids = [_header_message_id(raw) for raw, _ in messages]
    known = {m.message_id: m for m in session.exec(
        select(InboundMessage).where(col(InboundMessage.message_id).in_({i for i in ids if i})))} if any(ids) else {}
    now = clock.now()
    out: list[tuple[InboundMessage, bool]] = []
    for (raw, source), message_id in zip(messages, ids, strict=True):
        if message_id in known:
            out.append((known[message_id], False))
            continue
        row = InboundMessage(received_at=now, source=source, sha256=hashlib.sha256(raw).hexdigest(),
                             message_id=message_id, raw=raw)
        if message_id:
            known[message_id] = row
        out.append((row, True))
    new = [row for row, created in out if created]
    give_ids(session, new)  # (PostgreSQL) the rows go as one statement run for each, nothing read back
    try:
        with session.begin_nested():
            session.add_all(new)
            session.flush()
    except IntegrityError:  # a copy arrived concurrently and won: take them one at a time
        if len(messages) == 1:
            existing = session.exec(select(InboundMessage).where(InboundMessage.message_id == ids[0])).one()
            return [(existing, False)]
        return [store_many(session, [m], clock=clock)[0] for m in messages]
    for row in new:
        audit.record(session, "inbound.stored", actor=row.source, details={"inbound_id": row.id, "sha256": row.sha256})
    return out


def process(session: Session, inbound_id: int, *, clock: Clock, actor: str = "intake") -> IntakeResult:
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None:
        raise ValueError(f"inbound message {inbound_id} does not exist")
    if inbound.status == "stored":
        _Batch(session, [inbound], clock=clock, actor=actor).run()
    return result_of(session, inbound)


def process_many(session: Session, inbound_ids: list[int], *, clock: Clock, actor: str = "intake") -> list[int]:
    """Process several stored messages in the caller's transaction, oldest first (one commit for all of them:
    the worker's batch). Messages already processed are left as they are. Returns the notices queued (to hand to
    the outbox after commit)."""
    query = (select(InboundMessage).where(col(InboundMessage.id).in_(inbound_ids), InboundMessage.status == "stored")
             .order_by(col(InboundMessage.id)))
    batch = _Batch(session, list(session.exec(query).all()), clock=clock, actor=actor)
    batch.run()
    return batch.queued


def quarantine_failed(session: Session, inbound_id: int, exc: Exception, *, actor: str = "intake") -> None:
    """A message whose processing raised an unexpected error: kept, quarantined for staff with the error's type
    (never its text, which may quote the message), instead of failing again at every retry."""
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None or inbound.status != "stored":
        return
    inbound.status, inbound.problem_code = "quarantined", "processing_failed"
    inbound.problem_message = (f"처리 중 오류가 나서 격리했습니다: {type(exc).__name__}. 원문은 보관되어 있으니 "
                               "확인 후 다시 처리하세요 (processing failed; the raw message is kept)")
    session.add(inbound)
    audit.record(session, "inbound.quarantined", actor=actor,
                 details={"inbound_id": inbound.id, "code": "processing_failed", "error": type(exc).__name__})


@dataclass
class _Read:
    """A stored message parsed, masked and classified (the work that needs no database)."""

    inbound: InboundMessage
    parsed: ParsedMessage
    subject: str = ""
    text: str = ""
    verdict: Any = None
    received_at: datetime | None = None  # when it reached us (`receipt_time`): the clock runs from then
    reserved: dict[str, int] = field(default_factory=dict)  # a web request's rights → its cases' reserved ids


class _Batch:
    """Messages processed together, in order, with the cases they ask for opened together.

    The cases are planned first and opened in one go (one INSERT of cases, one of notices), and the earlier
    cases of the requesters in the batch are read in one query. Processing stays what it is one message at a
    time: before a message that may be a reply, or that repeats a right a planned case of the same requester
    asks, the planned cases are opened, so the reply or the duplicate finds them."""

    def __init__(self, session: Session, inbounds: list[InboundMessage], *, clock: Clock, actor: str) -> None:
        self.session, self.clock, self.actor = session, clock, actor
        self.reads = [_read(inbound) for inbound in inbounds]
        self.planned: list[engine.Opening] = []
        self.queued: list[int] = []  # the acknowledgements queued for the outbox
        self.planned_keys: set[tuple[str | None, str]] = set()  # (requester's lookup hash, right) of those
        self.earlier = _earlier_cases(session, [r for r in self.reads if r.verdict is not None])

    def run(self) -> None:
        for read in self.reads:
            self._process(read)
        self._open_planned()

    def _open_planned(self) -> None:
        if not self.planned:
            return
        cases, acknowledgements = engine.open_cases(self.session, self.planned, actor=self.actor, clock=self.clock)
        self.queued += [n.id for n in acknowledgements if n.id is not None and n.status == "queued"]
        for case in cases:
            if case.duplicate_of_id is None and case.requester_email:
                self.earlier.setdefault((lookup_hash(case.requester_email), case.right), []).append(case)
        self.planned, self.planned_keys = [], set()

    def _process(self, read: _Read) -> None:
        session, inbound, parsed, actor = self.session, read.inbound, read.parsed, self.actor
        if parsed.problem is not None:
            inbound.status = "quarantined"
            inbound.problem_code, inbound.problem_message = parsed.problem.code, parsed.problem.message
            session.add(inbound)
            audit.record(session, "inbound.quarantined", actor=actor,
                         details={"inbound_id": inbound.id, "code": parsed.problem.code})
            return
        if is_bounce(inbound.raw) and record_bounce(session, inbound.raw, inbound_id=inbound.id or 0, actor=actor):
            inbound.status = "bounce"
            session.add(inbound)
            return
        verdict = read.verdict
        inbound.summary = {
            "subject": read.subject, "sender": parsed.sender, "recipients": parsed.recipients,
            "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size,
                             "sha256": a.sha256} for a in parsed.attachments],
            "warnings": parsed.warnings,
            "classification": {"rights": [str(r) for r in verdict.rights], "agent_kind": verdict.agent_kind,
                               "not_a_request": verdict.not_a_request, "language": verdict.language,
                               "evidence": verdict.evidence},
        }
        if self.planned and _may_be_reply(parsed, read.subject):
            self._open_planned()
        thread = _thread(session, parsed, read.subject)
        if thread is not None:
            inbound.status = "processed"
            inbound.summary = {**inbound.summary, "thread_of": thread.number}
            audit.record(session, "request.reply_received", actor=actor, org_id=thread.org_id, request_id=thread.id,
                         details={"inbound_id": inbound.id})
        elif verdict.not_a_request or not verdict.rights:
            inbound.status = "not_a_request"
            audit.record(session, "inbound.not_a_request", actor=actor, details={"inbound_id": inbound.id})
        else:
            inbound.status = "processed"  # set first: written with the summary in one UPDATE
            self._plan_cases(read)
        session.add(inbound)

    def _plan_cases(self, read: _Read) -> None:
        inbound, parsed, verdict = read.inbound, read.parsed, read.verdict
        org = route(self.session, parsed.recipients)
        received_at = read.received_at or inbound.received_at
        rights = [str(r) for r in verdict.rights]
        for right in rights:
            duplicate = self._duplicate(parsed.sender, right, received_at)
            if parsed.sender:
                self.planned_keys.add((lookup_hash(parsed.sender), right))
            self.planned.append(engine.Opening(
                org=org, right=right, rights=rights, received_at=received_at, inbound_id=inbound.id,
                channel="web" if inbound.source == "web" else "email",
                fields={"requester_email": parsed.sender, "requester_name": parsed.sender_name,
                        "agent_kind": verdict.agent_kind, "subject": read.subject, "details": read.text,
                        "classification": {"evidence": verdict.evidence, "language": verdict.language},
                        "duplicate_of_id": duplicate.id if duplicate else None},
                id=read.reserved.get(right),
            ))

    def _duplicate(self, sender: str | None, right: str, received_at: datetime) -> Request | None:
        """The requester's earliest case of the same right within the window that is not itself a duplicate."""
        if not sender:
            return None
        key = (lookup_hash(sender), right)
        if key in self.planned_keys:
            self._open_planned()  # the same request twice in one batch: the first must exist to be linked to
        since = received_at - timedelta(days=get_settings().duplicate_window_days)
        found = [c for c in self.earlier.get(key, []) if c.received_at >= since]
        return min(found, key=lambda c: (c.received_at, c.id or 0)) if found else None


def _read(inbound: InboundMessage) -> _Read:
    parsed = parse_message(inbound.raw)
    if parsed.problem is not None:
        return _Read(inbound, parsed)
    subject = mask_pii(parsed.subject).text
    text = mask_pii(parsed.text).text
    verdict = classify(subject, text, [a.filename or "" for a in parsed.attachments],
                       auto_submitted=parsed.auto_submitted)
    ticked = form_rights(inbound.raw) if inbound.source == "web" else {}
    if ticked:  # the rights the requester ticked on the web form are the rights, whatever else the text says
        evidence = {r: verdict.evidence.get(r) or [FORM_EVIDENCE] for r in ticked}
        verdict = replace(verdict, rights=[Right(r) for r in ticked], not_a_request=False, evidence={
            **evidence, **{k: v for k, v in verdict.evidence.items() if k == "agent"}})
    reserved = {r: i for r, i in ticked.items() if i is not None}
    return _Read(inbound, parsed, subject, text, verdict, arrival_time(inbound, parsed), reserved)


def _earlier_cases(session: Session, reads: list[_Read]) -> dict[tuple[str | None, str | None], list[Request]]:
    """The open-window cases (not themselves duplicates) of the batch's requesters, by (lookup hash, right)."""
    senders = {lookup_hash(r.parsed.sender) for r in reads if r.parsed.sender}
    if not senders:
        return {}
    oldest = min(r.received_at or r.inbound.received_at for r in reads)
    since = oldest - timedelta(days=get_settings().duplicate_window_days)
    found: dict[tuple[str | None, str | None], list[Request]] = {}
    for case in session.exec(select(Request).where(
        col(Request.requester_email_hmac).in_(senders), col(Request.received_at) >= since,
        col(Request.duplicate_of_id).is_(None),
    )):
        found.setdefault((case.requester_email_hmac, case.right), []).append(case)
    return found


def _may_be_reply(parsed: ParsedMessage, subject: str) -> bool:
    return bool(parsed.in_reply_to or parsed.references or CASE_NUMBER.search(subject))


def arrival_time(inbound: InboundMessage, parsed: ParsedMessage) -> datetime:
    """When a stored message reached us: its topmost Received: stamp, else its Date (see `receipt_time`)."""
    return receipt_time(parsed.received or parsed.date, inbound.received_at)


def stamped_arrival(inbound: InboundMessage) -> datetime:
    """When a stored message reached us by its topmost Received: stamp alone (enough for the messages intake
    writes itself, such as web requests; `arrival_time` also reads the Date of a parsed message)."""
    return receipt_time(_received_stamp(inbound.raw), inbound.received_at)


def receipt_time(stamp: datetime | None, arrived: datetime) -> datetime:
    """When the message reached us: the newest Received: stamp or the Date header, never later than arrival.

    A message imported from a mailbox file arrived long before `dsar intake eml` read it; its clock runs from
    then. A stamp in the future (a wrong sender clock) or without a zone is ignored.
    """
    if stamp is None or stamp.tzinfo is None or stamp > arrived:
        return arrived
    return stamp


def _received_stamp(raw: bytes) -> datetime | None:
    """The time in the topmost Received: header of a message not otherwise parsed."""
    try:
        header = BytesHeaderParser().parsebytes(raw[:65536]).get("Received")
    except Exception:  # headers too broken to read: no stamp
        return None
    return received_stamp(str(header) if header else None)


def _thread(session: Session, parsed: ParsedMessage, subject: str) -> Request | None:
    ids = [i for i in [parsed.in_reply_to, *parsed.references] if i]
    if ids:
        wrapped = [f"<{i}>" for i in ids]
        notice = session.exec(select(Notice).where(col(Notice.message_id).in_(wrapped))).first()
        if notice is not None and notice.request_id is not None:
            return session.get(Request, notice.request_id)
        earlier = session.exec(
            select(Request).join(InboundMessage, col(Request.inbound_id) == col(InboundMessage.id))
            .where(col(InboundMessage.message_id).in_(ids)).order_by(col(Request.id))
        ).first()
        if earlier is not None:
            return earlier
    match = CASE_NUMBER.search(subject)
    if match:
        return session.exec(select(Request).where(Request.number == match.group(0).upper())).first()
    return None


def duplicate_of(session: Session, sender: str | None, right: str, received_at: datetime) -> Request | None:
    """The requester's earliest case of the same right within the duplicate window that is not itself a duplicate
    (a single message or a staff entry; a batch reads its requesters' cases at once)."""
    if not sender:
        return None
    since = received_at - timedelta(days=get_settings().duplicate_window_days)
    return session.exec(
        select(Request).where(
            Request.requester_email_hmac == lookup_hash(sender), Request.right == right,
            col(Request.received_at) >= since, col(Request.duplicate_of_id).is_(None),
        ).order_by(col(Request.received_at), col(Request.id))
    ).first()


def result_of(session: Session, inbound: InboundMessage) -> IntakeResult:
    cases = list(session.exec(select(Request).where(Request.inbound_id == inbound.id).order_by(col(Request.id))))
    cls = inbound.summary.get("classification", {})
    result = IntakeResult(
        inbound_id=inbound.id or 0, status=inbound.status, rights=cls.get("rights", []),
        agent=cls.get("agent_kind") is not None, agent_kind=cls.get("agent_kind"),
        not_a_request=inbound.status == "not_a_request", thread_of=inbound.summary.get("thread_of"),
        problem={"code": inbound.problem_code, "message": inbound.problem_message or ""}
        if inbound.problem_code else None,
    )
    if result.thread_of:
        result.request_id = result.thread_of
    if cases:
        first = cases[0]
        org = session.get(Organisation, first.org_id) if first.org_id else None
        result.request_id, result.cases = first.number, [c.number or "" for c in cases]
        result.org = org.slug if org else None
        result.due = first.due_date.isoformat() if first.due_date else None
        dup = session.get(Request, first.duplicate_of_id) if first.duplicate_of_id else None
        result.duplicate_of = dup.number if dup else None
    return result


def opened(session: Session, inbound_ids: list[int]) -> dict[int, tuple[str, list[str], str | None]]:
    """For each message: its status, the numbers of the cases it opened (in order) and the first one's due date;
    two queries for a whole group (what the web form answers with)."""
    out: dict[int, tuple[str, list[str], str | None]] = {
        int(i): (status, [], None) for i, status in session.exec(
            select(InboundMessage.id, InboundMessage.status).where(col(InboundMessage.id).in_(inbound_ids)))}
    for inbound_id, number, due in session.exec(
        select(Request.inbound_id, Request.number, Request.due_date)
        .where(col(Request.inbound_id).in_(inbound_ids)).order_by(col(Request.id))
    ):
        status, numbers, first_due = out[int(inbound_id or 0)]
        out[int(inbound_id or 0)] = (status, [*numbers, number or ""], first_due or (due.isoformat() if due else None))
    return out


def queued_notices(session: Session, inbound_ids: list[int]) -> list[int]:
    """Notices the processing of these messages queued (to hand to the outbox after commit)."""
    return list(session.exec(
        select(Notice.id).join(Request, col(Notice.request_id) == col(Request.id))
        .where(col(Request.inbound_id).in_(inbound_ids), Notice.status == "queued").order_by(col(Notice.id))
    ))  # type: ignore[arg-type]
