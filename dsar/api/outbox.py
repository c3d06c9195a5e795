"""A case's notices as staff see them: list, preview and download (audited), approve a draft, send.

Delivery itself stays in `dsar.notices.deliver` behind the `notices` Celery task; here a notice is only handed
to that task, after the caller has committed (the worker must find the notice it is given).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session, col, func, select

from dsar import audit
from dsar.auth.roles import Principal, require_case_worker, require_officer
from dsar.clock import Clock
from dsar.errors import Conflict, NotFound
from dsar.letters import NOTICE_KINDS
from dsar.letters.render import Rendered
from dsar.models import Notice, Organisation, Request, utcnow

log = logging.getLogger(__name__)

STATUS_LABELS = {"draft": "승인 대기", "queued": "발송 대기", "sending": "발송 중", "sent": "발송 완료",
                 "failed": "발송 실패", "manual": "우편 발송 필요", "held": "인증번호 발송 대기", "void": "폐기"}


def notice_row(n: Notice) -> dict[str, Any]:
    spec = NOTICE_KINDS.get(n.kind)
    return {
        "id": n.id, "kind": n.kind, "title": spec.title if spec else n.kind, "seq": n.seq,
        "audience": spec.audience if spec else "requester", "subject": n.subject, "status": n.status,
        "status_label": STATUS_LABELS.get(n.status, n.status), "requires_approval": n.requires_approval,
        "approved_by": n.approved_by, "attempts": n.attempts, "last_error": n.last_error, "sha256": n.sha256,
        "template_version": n.template_version, "created_at": n.created_at, "sent_at": n.sent_at,
    }


def notices_of(session: Session, case: Request, *, limit: int = 100, offset: int = 0) -> tuple[list[Notice], int]:
    rows = session.exec(select(Notice).where(Notice.request_id == case.id).order_by(col(Notice.id))
                        .limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(Notice).where(Notice.request_id == case.id)).one()
    return list(rows), int(total)


def notice_for(session: Session, case: Request, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None or notice.request_id != case.id:
        raise NotFound(f"{case.number}에 통지 {notice_id}이(가) 없습니다 (no such notice)")
    return notice


def record_view(session: Session, principal: Principal, case: Request, notice: Notice, action: str, *,
                clock: Clock, fmt: str | None = None) -> None:
    """A notice holds the requester's personal data: every preview and download is an audited access."""
    details: dict[str, Any] = {"notice_id": notice.id, "kind": notice.kind}
    if fmt:
        details["format"] = fmt
    audit.record(session, action, actor=principal.actor, org_id=case.org_id, request_id=case.id, at=clock.now(),
                 details=details)


def approve(session: Session, principal: Principal, case: Request, notice: Notice, *, clock: Clock) -> Notice:
    """The officer approves a draft (refusal, partial access, postponement ...): it joins the outbox."""
    require_officer(principal, "통지서 승인")
    if notice.status != "draft":
        raise Conflict(f"통지 {notice.id}은(는) 승인 대기 중인 초안이 아닙니다 (status {notice.status})",
                       status=notice.status)
    notice.approved_by = principal.approval
    notice.status = "queued" if notice.recipient else "manual"
    session.add(notice)
    audit.record(session, "notice.approved", actor=principal.actor, org_id=case.org_id, request_id=case.id,
                 at=clock.now(), details={"notice_id": notice.id, "kind": notice.kind, "status": notice.status})
    return notice


def send(session: Session, principal: Principal, case: Request, notice: Notice, *, clock: Clock) -> bool:
    """Send a waiting notice now (or again after a failure); for a notice without an e-mail address, record
    that staff sent it by post. Returns True when the notice must be handed to the outbox after commit."""
    require_case_worker(principal, org_id=case.org_id, assignee_id=case.assignee_id)
    if notice.status == "draft":
        raise Conflict("승인되지 않은 초안은 보낼 수 없습니다: 개인정보 보호책임자의 승인을 먼저 받으세요",
                       status=notice.status)
    if notice.status in ("sent", "sending", "held", "void"):
        raise Conflict(f"통지 {notice.id}은(는) 이미 {STATUS_LABELS[notice.status]} 상태입니다", status=notice.status)
    if notice.status == "manual":
        notice.status, notice.sent_at = "sent", utcnow()
        session.add(notice)
        audit.record(session, "notice.sent", actor=principal.actor, org_id=case.org_id, request_id=case.id,
                     at=clock.now(), details={"notice_id": notice.id, "kind": notice.kind, "manual": True})
        return False
    audit.record(session, "notice.send_requested", actor=principal.actor, org_id=case.org_id, request_id=case.id,
                 at=clock.now(), details={"notice_id": notice.id, "kind": notice.kind, "status": notice.status})
    return True


def deliver(notice_ids: list[int]) -> None:
    """Hand committed notices to the outbox task. With DSAR_CELERY_EAGER it runs here and now; a failure is
    kept on the notice (status "failed", last_error) for staff to see, and the outbox sweep tries again."""
    from tasks.notices import queue_delivery

    try:
        queue_delivery(notice_ids)
    except Exception as exc:  # the broker is down or SMTP refused: the notices stay in the outbox
        log.warning("%d notices not delivered now (%s); the outbox sweep will retry", len(notice_ids),
                    type(exc).__name__)


def as_rendered(notice: Notice) -> Rendered:
    return Rendered(kind=notice.kind, subject=notice.subject, html=notice.html, text=notice.text,
                    sha256=notice.sha256, template_version=notice.template_version,
                    context_json=notice.context.get("json", ""))


def pdf_bytes(session: Session, case: Request, notice: Notice) -> bytes:
    from dsar.letters.pdf import render_pdf

    org = session.get(Organisation, case.org_id) if case.org_id else None
    return render_pdf(as_rendered(notice), org_name=org.name if org else "")


def file_name(case: Request, notice: Notice, ext: str) -> str:
    return f"{case.number}-{notice.seq:02d}-{notice.kind}.{ext}"
