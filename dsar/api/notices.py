"""/api/cases/{number}/notices: the case's letters and e-mails; preview and download are audited accesses."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from dsar.api import casework, outbox
from dsar.api.cases import Id, Limit, Number, Offset
from dsar.api.deps import ClockDep, PrincipalDep, SessionDep
from dsar.api.schemas import ERRORS, NoticeItem, Page

router = APIRouter(prefix="/api/cases/{number}/notices", tags=["notices"], responses=ERRORS)

# A stored notice is our own template's output, but it quotes the requester: show it with no scripts at all.
PREVIEW_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


@router.get("", response_model=Page[NoticeItem])
def list_notices(
    number: Number, session: SessionDep, principal: PrincipalDep, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    case = casework.case_for(session, principal, number)
    rows, total = outbox.notices_of(session, case, limit=limit, offset=offset)
    return {"items": [outbox.notice_row(n) for n in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/{notice_id}/preview", response_class=HTMLResponse,
            responses={200: {"content": {"text/html": {}}, "description": "The notice as the requester sees it"}})
def preview(number: Number, notice_id: Id, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Response:
    """The notice's HTML (recorded in the audit log as notice.previewed)."""
    case = casework.case_for(session, principal, number)
    notice = outbox.notice_for(session, case, notice_id)
    outbox.record_view(session, principal, case, notice, "notice.previewed", clock=clock)
    return HTMLResponse(notice.html, headers={"Content-Security-Policy": PREVIEW_CSP, "Cache-Control": "no-store"})


@router.get("/{notice_id}/download",
            responses={200: {"content": {"text/html": {}, "text/plain": {}, "application/pdf": {}},
                             "description": "The notice as a file"}, 503: {"description": "PDF support missing"}})
def download(
    number: Number, notice_id: Id, session: SessionDep, principal: PrincipalDep, clock: ClockDep,
    format: Annotated[Literal["html", "txt", "pdf"], Query(description="html, txt or pdf")] = "html",
) -> Response:
    """The notice as a file (recorded in the audit log as notice.downloaded). PDF needs the pdf extra."""
    case = casework.case_for(session, principal, number)
    notice = outbox.notice_for(session, case, notice_id)
    if format == "pdf":
        body, media = outbox.pdf_bytes(session, case, notice), "application/pdf"
    elif format == "txt":
        body, media = notice.text.encode(), "text/plain; charset=utf-8"
    else:
        body, media = notice.html.encode(), "text/html; charset=utf-8"
    outbox.record_view(session, principal, case, notice, "notice.downloaded", clock=clock, fmt=format)
    name = outbox.file_name(case, notice, format)
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "Content-Security-Policy": PREVIEW_CSP, "X-Content-Type-Options": "nosniff",
    })


@router.post("/{notice_id}/approve", response_model=NoticeItem)
def approve(number: Number, notice_id: Id, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """The 개인정보 보호책임자 approves a draft; it is queued and handed to the outbox."""
    case = casework.case_for(session, principal, number)
    notice = outbox.notice_for(session, case, notice_id)
    outbox.approve(session, principal, case, notice, clock=clock)
    session.commit()
    if notice.status == "queued":
        outbox.deliver([notice_id])
    session.refresh(notice)
    return outbox.notice_row(notice)


@router.post("/{notice_id}/send", response_model=NoticeItem)
def send(number: Number, notice_id: Id, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Any:
    """Send a queued or failed notice now; for one without an e-mail address, record that it went by post."""
    case = casework.case_for(session, principal, number)
    notice = outbox.notice_for(session, case, notice_id)
    hand_over = outbox.send(session, principal, case, notice, clock=clock)
    session.commit()
    if hand_over:
        outbox.deliver([notice_id])
    session.refresh(notice)
    return outbox.notice_row(notice)
