"""Notices in the outbox: built from a case, rendered, stored with their hash, then delivered once.

`create` runs inside the engine's transaction (the notice exists exactly when its transition does);
`deliver` is what the `notices` Celery task calls: it claims the notice with one atomic UPDATE, so two workers
can never both send it, and records every failure on the notice where staff can see it. A claim is a lease: a
worker killed between claiming and recording the result leaves the notice `sending`, and once the lease lapses
the outbox sweep sends it again, with the same Message-ID (receiving mail systems drop a copy they already have).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from dsar import audit
from dsar.calendar_kr import kst_date
from dsar.clock import Clock, SystemClock
from dsar.db import give_ids
from dsar.letters import NOTICE_KINDS, NoticeContext, render_notice
from dsar.mail import DeliveryFailed, Transport, build_message
from dsar.memo import memo
from dsar.models import Notice, Request, WorkflowVersion
from dsar.settings import get_settings

DEFAULT_REQUIRED = {
    "verification_request": ["성명과 연락처(요청하신 분이 본인임을 확인할 수 있는 정보)"],
    "supplement_request": ["요청하실 개인정보의 범위(항목, 기간)"],
}


def _contact(c: dict[str, Any] | None) -> dict[str, Any] | None:
    if not c:
        return None
    return {k: c.get(k) for k in ("name", "title", "department", "phone", "email")}


def org_context(definition: dict[str, Any]) -> dict[str, Any]:
    contacts = definition.get("contacts", [])
    settings = definition.get("settings", {})
    officer = next((c for c in contacts if c["role"] == "책임자"), None)
    if officer is not None and not officer.get("email") and settings.get("officer_email"):
        officer = {**officer, "email": settings["officer_email"]}
    return {
        "name": definition["organisation"]["name"],
        "slug": definition["organisation"]["slug"],
        "officer": _contact(officer),
        "handler": _contact(next((c for c in contacts if c["role"] == "담당자"), None)),
        "complaint_bodies": [
            {"name": b["name"], "url": b.get("url"), "phone": b.get("phone")}
            for b in definition.get("complaint_bodies", [])
        ],
        "objection_procedure": settings.get("objection_procedure"),
    }


def build_context(
    session: Session, request: Request, kind: str, *, decision: dict[str, Any] | None, clock: Clock,
    staff: dict[str, Any] | None = None,
) -> NoticeContext:
    version = session.get(WorkflowVersion, request.workflow_version_id)
    assert version is not None and request.right is not None and request.due_date is not None
    today = kst_date(clock.now())
    case = {
        "number": request.number, "right": request.right, "rights": request.rights,
        "received_at": request.received_at.isoformat(), "due_date": request.due_date.isoformat(),
        "due_basis": request.due_basis.get("basis", []), "due_statutory": request.due_basis.get("statutory", True),
        "channel": request.channel,
        "requester": {"name": request.requester_name, "email": request.requester_email,
                      "phone": request.requester_phone},
        "agent": {"kind": request.agent_kind} if request.agent_kind else None,
        "details": request.details or None,
        "stage": request.stage,
    }
    return NoticeContext.from_dict({
        "org": org_context(version.definition),
        "notice_date": today.isoformat(),
        "case": case,
        "decision": _decision(version.definition, request, kind, decision or {}, today),
        "staff": staff,
    })


def _decision(
    definition: dict[str, Any], request: Request, kind: str, d: dict[str, Any], today: Any
) -> dict[str, Any] | None:
    spec = NOTICE_KINDS[kind]
    out: dict[str, Any] = {}
    if spec.outcomes:
        out["outcome"] = d.get("outcome") if d.get("outcome") in spec.outcomes else sorted(spec.outcomes)[0]
    if d.get("reason"):
        out["reason"] = d["reason"]
    ground = d.get("ground")
    if ground:
        out["legal_ground"] = {"article": full_article(ground["article"]), "text": ground["text"],
                               "code": ground["code"]}
    for key in ("items", "withheld_items", "note", "recipient"):
        if d.get(key):
            out[key] = d[key]
    if d.get("access"):
        out["access"] = d["access"]
    elif kind == "access_notice":  # the usual way unless staff say otherwise: a copy to the address it came from
        out["access"] = {"method": "전자우편으로 사본 송부" if request.requester_email else "우편으로 사본 송부"}
    if kind in DEFAULT_REQUIRED:
        wf = definition["workflows"][request.right]
        out["required"] = {
            "items": d.get("required_items") or DEFAULT_REQUIRED[kind],
            "deadline": (today + timedelta(days=d.get("reply_days", 7))).isoformat(),
            "pauses_clock": kind == "supplement_request"
            and bool(wf["stages"].get("awaiting_requester", {}).get("pauses_clock")),
            "how": "이 메일에 회신해 주십시오(제목의 사건 번호를 그대로 두어 주십시오).",
        }
    if ground and ground.get("code") == "retention_required":
        wanted = set(d.get("retention_items") or [])
        out["retention_rules"] = [
            {"item": r["item"], "period": r["period"], "basis": r.get("basis") or "관계 법령"}
            for r in definition.get("retention", []) if not wanted or r["item"] in wanted
        ]
    if d.get("extension_days") and request.extensions:
        out["extension"] = {"days": d["extension_days"], "reason": d.get("reason") or "",
                            "new_due": request.due_date.isoformat() if request.due_date else None,
                            "count": len(request.extensions)}
    return out or None


def full_article(article: str) -> str:
    """Workflow files cite "법 제36조제1항 단서" / "영 제42조의8제1항"; a letter names the law in full."""
    for short, name in (("법 ", "개인정보 보호법 "), ("영 ", "개인정보 보호법 시행령 ")):
        if article.startswith(short):
            return name + article[len(short):]
    return article


@dataclass
class Draft:
    """One notice to create (`create_many`): for `request`, of `kind`, with the decision or staff addressee."""

    request: Request
    kind: str
    decision: dict[str, Any] | None = None
    approved_by: str | None = None
    staff: dict[str, Any] | None = None
    dedupe_key: str | None = None


def create(
    session: Session, request: Request, kind: str, *, actor: str, clock: Clock | None = None,
    decision: dict[str, Any] | None = None, approved_by: str | None = None,
    staff: dict[str, Any] | None = None, dedupe_key: str | None = None, first: bool = False,
) -> Notice:
    """Render and store one notice (see `create_many`)."""
    draft = Draft(request, kind, decision, approved_by, staff, dedupe_key)
    return create_many(session, [draft], actor=actor, clock=clock, first=first)[0]


def create_many(
    session: Session, drafts: list[Draft], *, actor: str, clock: Clock | None = None, first: bool = False
) -> list[Notice]:
    """Render and store notices for cases; each is queued, or held as a draft when it awaits approval. They are
    inserted together (one statement for a batch).

    A staff e-mail goes to `staff["email"]` instead of the requester. `first`: the cases were opened in this
    transaction, so these are their first notices of the kind (saves counting).
    """
    if not drafts:
        return []
    clock = clock or SystemClock()
    now = clock.now()
    made = []
    for d in drafts:
        request = d.request
        context = build_context(session, request, d.kind, decision=d.decision, clock=clock, staff=d.staff)
        rendered = render_notice(d.kind, context, override_dir=override_dir(context.org.slug))
        seq = 1 if first else session.exec(
            select(func.count()).select_from(Notice).where(Notice.request_id == request.id, Notice.kind == d.kind)
        ).one() + 1
        outcome = context.decision.outcome if context.decision else None
        needs_approval = NOTICE_KINDS[d.kind].needs_approval(outcome)
        recipient = d.staff.get("email") if d.staff else request.requester_email
        status = "queued" if recipient else "manual"  # no e-mail: staff print and post it
        if needs_approval and not d.approved_by:
            status = "draft"
        made.append(Notice(
            request_id=request.id, kind=d.kind, seq=seq, recipient=recipient, subject=rendered.subject,
            dedupe_key=d.dedupe_key, html=rendered.html, text=rendered.text, sha256=rendered.sha256,
            template_version=rendered.template_version, context={"json": rendered.context_json}, status=status,
            requires_approval=needs_approval, approved_by=d.approved_by,
            message_id=f"<{request.number}.{d.kind}.{seq}@{_mail_domain()}>", created_at=now,
        ))
    give_ids(session, made)
    session.add_all(made)
    session.flush()
    for d, notice in zip(drafts, made, strict=True):
        audit.record(
            session, "notice.rendered", actor=actor, org_id=d.request.org_id, request_id=d.request.id, at=now,
            details={"notice_id": notice.id, "kind": d.kind, "sha256": notice.sha256, "status": notice.status,
                     "template_version": notice.template_version},
        )
    return made


def override_dir(slug: str) -> Path | None:
    """An organisation's own templates (same file names) live in templates/orgs/<slug>/ and win over defaults."""
    folder = get_settings().templates_dir / "orgs" / slug
    return folder if folder.is_dir() else None


def _mail_domain() -> str:
    return get_settings().mail_from.rsplit("@", 1)[-1]


WAITING = ("queued", "failed")  # statuses the outbox still has to send
LEASE = timedelta(minutes=15)  # far longer than any SMTP exchange (30 s timeouts): an older claim is a dead worker's


def _lapsed(before: datetime) -> Any:
    """`sending` under a claim made before `before`. While a notice is `sending`, `sent_at` is when `deliver`
    claimed it; the verification-code e-mail's own claim leaves it empty, so a code is never sent twice."""
    return and_(col(Notice.status) == "sending", col(Notice.sent_at).is_not(None), col(Notice.sent_at) < before)


def pending_ids(
    session: Session, *, created_before: datetime | None = None, lapsed_before: datetime | None = None
) -> list[int]:
    """Notices still waiting to go out (optionally only those made before a moment); with `lapsed_before`, also
    those whose claim was made before that moment and never finished."""
    waiting = col(Notice.status).in_(WAITING)
    if created_before is not None:
        waiting = and_(waiting, col(Notice.created_at) < created_before)
    query = select(Notice.id).where(or_(waiting, _lapsed(lapsed_before)) if lapsed_before is not None else waiting)
    return list(session.exec(query))  # type: ignore[arg-type]


def _claim(session: Session, notice_ids: list[int], now: datetime, lease: timedelta) -> tuple[list[int], list[int]]:
    """Take the notices for sending (one atomic UPDATE each way, so two workers never take the same one): those
    that were waiting, and those whose last claim lapsed (a worker died mid-send)."""
    take = (update(Notice).where(col(Notice.id).in_(notice_ids))
            .values(status="sending", attempts=Notice.attempts + 1, sent_at=now).returning(Notice.id))
    claimed = list(session.execute(take.where(col(Notice.status).in_(WAITING))).scalars())
    reclaimed = list(session.execute(take.where(_lapsed(now - lease))).scalars())
    return claimed, reclaimed


def deliver(
    session: Session, notice_id: int, transport: Transport, *, actor: str = "outbox", clock: Clock | None = None,
    lease: timedelta = LEASE,
) -> Notice:
    """Send one notice if it is still waiting (or its claim lapsed); otherwise do nothing (a sent notice is never
    sent again). Raises DeliveryFailed when the transport fails (the failure is recorded on the notice first)."""
    tried = deliver_many(session, [notice_id], transport, actor=actor, clock=clock, lease=lease)
    notice = tried[0] if tried else session.get(Notice, notice_id, populate_existing=True)
    if tried and notice.status == "failed":
        raise DeliveryFailed(notice.last_error or "")
    return notice  # type: ignore[return-value]


def deliver_many(
    session: Session, notice_ids: list[int], transport: Transport, *, actor: str = "outbox",
    clock: Clock | None = None, lease: timedelta = LEASE,
) -> list[Notice]:
    """Send those of the notices that are still waiting, or whose claim lapsed, over one connection; returns the
    ones this call sent or tried. The claim is committed before anything goes out, and each outcome as soon as the
    server answers, so a crash mid-batch leaves at most one message to go out twice; each failure is recorded on
    its notice where staff can see it. A reclaimed notice goes out with the same Message-ID, so a receiving mail
    system that already has it drops the copy."""
    clock = clock or SystemClock()
    claimed, reclaimed = _claim(session, notice_ids, clock.now(), lease)
    taken = claimed + reclaimed
    if not taken:
        session.commit()
        return []
    batch = list(session.exec(
        select(Notice).where(col(Notice.id).in_(taken)).order_by(col(Notice.id))
        .options(defer(Notice.context))  # type: ignore[arg-type]  (what it was rendered from: not sent)
        .execution_options(populate_existing=True)
    ))
    cases = {r.id: r for r in session.exec(  # the two columns needed: no personal data decrypted for nothing
        select(Request.id, Request.org_id, Request.workflow_version_id)
        .where(col(Request.id).in_({n.request_id for n in batch if n.request_id})))}
    for notice in batch:
        if notice.id in reclaimed:
            audit.record(session, "notice.reclaimed", actor=actor, org_id=_org_id(cases, notice), at=clock.now(),
                         request_id=notice.request_id, details={"notice_id": notice.id, "attempt": notice.attempts})
    session.commit()
    messages = [
        build_message(to=n.recipient or "", subject=n.subject, text=n.text, html=n.html, message_id=n.message_id,
                      sender_name=_org_name(session, cases.get(n.request_id)) or "개인정보 보호 담당")
        for n in batch
    ]
    for notice, failure in zip(batch, transport.send_each(messages), strict=True):
        now, org_id = clock.now(), _org_id(cases, notice)
        if failure is None:
            _outcome(session, notice, status="sent", sent_at=now, last_error=None)
            audit.record(session, "notice.sent", actor=actor, org_id=org_id, at=now, request_id=notice.request_id,
                         details={"notice_id": notice.id, "kind": notice.kind})
        else:
            _outcome(session, notice, status="failed", sent_at=None, last_error=failure.message)
            audit.record(session, "notice.failed", actor=actor, org_id=org_id, at=now, request_id=notice.request_id,
                         details={"notice_id": notice.id, "attempt": notice.attempts})
        session.commit()  # before the next goes: a crash leaves at most this one message in doubt
    return batch


# built once (it runs once per message sent); `last_error` is encrypted by its column type all the same
_OUTCOME = (update(Notice).where(col(Notice.id) == bindparam("notice_id"))
            .values(status=bindparam("status"), sent_at=bindparam("sent_at"), last_error=bindparam("last_error")))


def _outcome(session: Session, notice: Notice, **values: Any) -> None:
    """Record what became of a sent notice with one plain UPDATE (no unit-of-work flush), and put the same values
    on the loaded object the caller reads."""
    session.connection().execute(_OUTCOME, {"notice_id": notice.id, **values})
    for key, value in values.items():
        set_committed_value(notice, key, value)


def _org_id(cases: dict[int | None, Any], notice: Notice) -> int | None:
    case = cases.get(notice.request_id)
    return case.org_id if case else None


def _org_name(session: Session, case: Any) -> str | None:
    """The organisation's name for the From: line; `case` has the case's workflow_version_id."""
    if case is None or case.workflow_version_id is None:
        return None
    version = memo(session, ("version", case.workflow_version_id),
                   lambda: session.get(WorkflowVersion, case.workflow_version_id))
    return version.definition["organisation"]["name"] if version else None
