"""/api/cases/{number}/audit and /api/audit/export: the audit trail of a case, and the chains as a file.

The export carries every field of each event (sequence, previous hash, hash), so the file can be verified on
its own. An organisation's staff export their organisation's chain; an admin exports any or all (with the
`system` chain of logins and unrouted mail). The export itself is recorded first (audit.exported).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlmodel import Session, col, select

from dsar import audit
from dsar.api import casework, queries
from dsar.api.cases import Limit, Number, Offset, OrgQuery
from dsar.api.deps import ClockDep, PrincipalDep, SessionDep
from dsar.api.schemas import ERRORS, AuditItem, Page
from dsar.auth.roles import require_audit_export
from dsar.calendar_kr import KST
from dsar.db import get_engine
from dsar.models import AuditEvent

router = APIRouter(tags=["audit"], responses=ERRORS)
FIELDS = ("id", "chain", "seq", "at", "actor", "action", "org_id", "request_id", "details", "prev_hash", "hash")


def event_dict(e: AuditEvent) -> dict[str, Any]:
    return {k: getattr(e, k) for k in FIELDS}


@router.get("/api/cases/{number}/audit", response_model=Page[AuditItem])
def case_audit(
    number: Number, session: SessionDep, principal: PrincipalDep, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    case = casework.case_for(session, principal, number)
    rows, total = casework.audit_events(session, case, limit=limit, offset=offset)
    return {"items": [event_dict(e) for e in rows], "total": total, "limit": limit, "offset": offset}


@router.get("/api/audit/export",
            responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}},
                             "description": "JSON lines or CSV, one event per line, in chain order"}})
def export(
    session: SessionDep, principal: PrincipalDep, clock: ClockDep,
    format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl or csv")] = "jsonl",
    org: OrgQuery = None,
    since: Annotated[date | None, Query(description="From this Korean date")] = None,
    until: Annotated[date | None, Query(description="Up to and including this Korean date")] = None,
) -> StreamingResponse:
    require_audit_export(principal)
    org_id: int | None = None
    if org:
        org_id = queries.org_by_slug(session, principal, org).id
    elif not principal.is_admin:
        org_id = principal.org_id
    chains = [audit.chain_for(org_id)] if org_id is not None else None
    audit.record(session, "audit.exported", actor=principal.actor, org_id=org_id, at=clock.now(),
                 details={"format": format, "chains": chains or "all",
                          "since": since.isoformat() if since else None, "until": until.isoformat() if until else None})
    session.commit()
    query = select(AuditEvent).order_by(col(AuditEvent.chain), col(AuditEvent.seq))
    if chains is not None:
        query = query.where(col(AuditEvent.chain).in_(chains))
    if since:
        query = query.where(col(AuditEvent.at) >= datetime.combine(since, time(0), KST))
    if until:
        query = query.where(col(AuditEvent.at) < datetime.combine(until + timedelta(days=1), time(0), KST))
    stamp = clock.now().astimezone(KST).strftime("%Y%m%d-%H%M")
    media = "application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8"
    return StreamingResponse(
        _lines(query, format), media_type=media,
        headers={"Content-Disposition": f'attachment; filename="dsar-audit-{stamp}.{format}"',
                 "Cache-Control": "no-store"},
    )


def _lines(query: Any, fmt: str) -> Iterator[str]:
    """Stream in batches from a session of its own (the request's session is closed by then)."""
    with Session(get_engine()) as session:
        if fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf)
            writer.writerow(FIELDS)
            yield "\ufeff" + buf.getvalue()  # BOM: spreadsheet programs then read the Korean text as UTF-8
        for e in session.exec(query.execution_options(yield_per=500)):
            row = event_dict(e)
            row["at"] = e.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # as hashed
            if fmt == "jsonl":
                yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"
            else:
                buf = io.StringIO()
                csv.writer(buf).writerow([json.dumps(row[k], ensure_ascii=False, sort_keys=True)
                                          if k == "details" else row[k] for k in FIELDS])
                yield buf.getvalue()
