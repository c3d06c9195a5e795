"""/api/cases/{number}/attachments/{index}: a file the requester sent (a 위임장, a copy of an ID), as it arrived.

The bytes are read again from the stored raw message; the parser's listing (the message summary) says which
file an index is, and its SHA-256 picks the same file out of the message, so an index never serves another
file. The same people who may open the case may download its files (another organisation's case is "not
found"), and every download is an audited access to personal data that records the index, hash and size, never
the file name (names like "홍길동_신분증.jpg" are personal data themselves).

The declared type and name come from whoever sent the mail, so the answer is defensive: only raster images are
shown in the browser, everything else (HTML, SVG, PDF, office files ...) is a download; `nosniff` stops the
browser from guessing another type, and the CSP allows no script even if such a file is opened. The
name is given twice (RFC 6266): an ASCII fallback and the exact UTF-8 name (RFC 5987), so a Korean name
survives the download.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import Response
from sqlmodel import Session

from dsar import audit
from dsar.api import casework
from dsar.api.cases import Number
from dsar.api.deps import ClockDep, PrincipalDep, SessionDep
from dsar.api.schemas import ERRORS
from dsar.errors import NotFound
from dsar.intake.parse import Attachment, parse_message
from dsar.models import InboundMessage, Request

router = APIRouter(prefix="/api/cases/{number}/attachments", tags=["cases"], responses=ERRORS)

Index = Annotated[int, Path(ge=0, le=10_000, description="The attachment's index in the case detail, from 0")]
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
ATTACHMENT_CSP = "default-src 'none'; img-src 'self'; frame-ancestors 'none'"
_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")
_ASCII_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,150}")


@router.get("/{index}", responses={200: {"content": {"application/octet-stream": {}},
                                         "description": "The file, with its declared type"}})
def download(number: Number, index: Index, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> Response:
    """One attachment of the case's message (recorded in the audit log as attachment.downloaded)."""
    case = casework.case_for(session, principal, number)
    listed, found = attachment(session, case, index)
    audit.record(session, "attachment.downloaded", actor=principal.actor, org_id=case.org_id, request_id=case.id,
                 at=clock.now(), details={"index": index, "sha256": found.sha256, "size": found.size})
    media = media_type(found.content_type)
    return Response(found.data, media_type=media, headers={
        "Content-Disposition": content_disposition(listed.get("filename") or found.filename, index, media),
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": ATTACHMENT_CSP, "Cache-Control": "no-store",
    })


def attachment(session: Session, case: Request, index: int) -> tuple[dict[str, Any], Attachment]:
    """The listed entry and the file itself; "not found" for an index the message does not have."""
    inbound = session.get(InboundMessage, case.inbound_id) if case.inbound_id else None
    listed = inbound.summary.get("attachments", []) if inbound else []
    missing = NotFound(f"{case.number}에 첨부파일 #{index}이(가) 없습니다: 사건의 첨부 목록을 확인하세요 "
                       "(no such attachment)")
    if inbound is None or index >= len(listed):
        raise missing
    entry = listed[index]
    found = next((a for a in parse_message(inbound.raw).attachments if a.sha256 == entry.get("sha256")), None)
    if found is None:
        raise missing
    return entry, found


def media_type(declared: str | None) -> str:
    """The declared type when it is a well-formed type/subtype, else application/octet-stream."""
    value = (declared or "").strip().lower()
    return value if _MEDIA_TYPE.fullmatch(value) else "application/octet-stream"


def content_disposition(filename: str | None, index: int, media: str) -> str:
    """`inline` only for raster images; the name as an ASCII fallback and as UTF-8 (RFC 5987)."""
    name = _clean(filename or "") or f"attachment-{index + 1}"
    stem, dot, ext = name.rpartition(".")
    fallback = name if _ASCII_NAME.fullmatch(name) else (
        f"attachment-{index + 1}" + (f".{ext}" if stem and dot and _ASCII_NAME.fullmatch(ext) else ""))
    kind = "inline" if media in INLINE_TYPES else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _clean(filename: str) -> str:
    """The last path component, without control characters, at most 200 characters."""
    base = re.split(r"[/\\]", filename)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return base[:200]
