"""Delivery-status reports (bounces) of our own notices: the notice is marked failed, visibly, on its case.

A bounce is a `multipart/report; report-type=delivery-status` message that quotes the headers of the message
it returns; the quoted Message-ID names the notice.
"""

from __future__ import annotations

import re
from email.parser import BytesHeaderParser

from sqlmodel import Session, col, select

from dsar import audit
from dsar.models import Notice, Request

QUOTED_ID = re.compile(rb"(?im)^Message-ID:\s*(<[^>\r\n]{1,300}>)")
REPORT = re.compile(rb"(?i)multipart/report")
STATUS = re.compile(rb"(?im)^(?:Diagnostic-Code|Status):\s*([^\r\n]{1,200})")


def is_bounce(raw: bytes) -> bool:
    head = raw[:65536]
    if not REPORT.search(head):  # the common case, without parsing the headers
        return False
    try:
        headers = BytesHeaderParser().parsebytes(head)
        content_type, report = headers.get_content_type(), headers.get_param("report-type") or ""
    except Exception:  # unreadable headers: not something we can recognise as a bounce
        return False
    return content_type == "multipart/report" and str(report).lower() == "delivery-status"


def record_bounce(session: Session, raw: bytes, *, inbound_id: int, actor: str) -> Notice | None:
    """Mark the returned notice `bounced` with the server's reason; None when no notice of ours is quoted."""
    quoted = [m.decode("ascii", "replace") for m in QUOTED_ID.findall(raw)]
    notice = session.exec(select(Notice).where(col(Notice.message_id).in_(quoted))).first() if quoted else None
    if notice is None:
        return None
    reasons = [m.decode("utf-8", "replace").strip() for m in STATUS.findall(raw)]
    notice.status = "bounced"
    notice.last_error = "반송됨: " + ("; ".join(reasons) or "수신 서버가 전달하지 못했습니다")
    session.add(notice)
    request = session.get(Request, notice.request_id) if notice.request_id else None
    audit.record(session, "notice.bounced", actor=actor, org_id=request.org_id if request else None,
                 request_id=notice.request_id, details={"notice_id": notice.id, "inbound_id": inbound_id})
    return notice
