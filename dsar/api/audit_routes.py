"""/api/cases/{number}/audit and /api/audit/export: the audit trail of a case, and the chains as a file.

The export (format: dsar/audit_export.py) carries every field of each event (sequence, previous hash, hash), so
the file can be verified on its own; it can be narrowed to Korean days (`from`, `to`) and a case. An
organisation's staff export their organisation's chain; an admin exports any or all (with the `system` chain of
logins and unrouted mail). The export itself is recorded first (audit.exported).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from dsar import audit
from dsar.api import casework, queries
from dsar.api.cases import Limit, Number, Offset, OrgQuery
from dsar.api.deps import ClockDep, PrincipalDep, SessionDep
from dsar.api.schemas import ERRORS, AuditItem, Page
from dsar.audit_export import ExportFilter, lines
from dsar.auth.roles import require_audit_export
from dsar.calendar_kr import KST
from dsar.errors import NotFound
from dsar.models import AuditEvent

router = APIRouter(tags=["audit"], responses=ERRORS)


def event_dict(e: AuditEvent) -> dict[str, Any]:
    return {k: getattr(e, k) for k in audit.EXPORT_FIELDS}


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
    case: Annotated[str | None, Query(max_length=20, pattern=r"^[A-Za-z0-9-]+$",
                                      description="Only this case's events (case number)")] = None,
    since: Annotated[date | None, Query(alias="from", description="From this Korean date (inclusive)")] = None,
    until: Annotated[date | None, Query(alias="to", description="Up to this Korean date (inclusive)")] = None,
) -> StreamingResponse:
    require_audit_export(principal)
    org_id: int | None = None
    if org:
        org_id = queries.org_by_slug(session, principal, org).id
    elif not principal.is_admin:
        org_id = principal.org_id
    request_id = None
    if case:  # the case's own chain; the export of a case is an access to that case
        found = casework.case_for(session, principal, case)
        if org and found.org_id != org_id:
            raise NotFound(f"조직 '{org}'에 사건 {case}이(가) 없습니다 (no such case in that organisation)")
        org_id, request_id = found.org_id, found.id
    chains = [audit.chain_for(org_id)] if org_id is not None else None
    selection = ExportFilter(chains=chains, request_id=request_id, since=since, until=until)
    audit.record(session, "audit.exported", actor=principal.actor, org_id=org_id, request_id=request_id,
                 at=clock.now(), details=selection.details(format, case))
    session.commit()
    stamp = clock.now().astimezone(KST).strftime("%Y%m%d-%H%M")
    media = "application/x-ndjson" if format == "jsonl" else "text/csv; charset=utf-8"
    return StreamingResponse(
        lines(selection.query(), format), media_type=media,
        headers={"Content-Disposition": f'attachment; filename="dsar-audit-{stamp}.{format}"',
                 "Cache-Control": "no-store"},
    )
