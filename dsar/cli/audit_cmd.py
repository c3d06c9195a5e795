"""`dsar audit verify|anchor|export|review`."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlmodel import Session, select

from dsar import audit, audit_anchors, audit_export, audit_review
from dsar.cli import emit
from dsar.clock import clock_from_settings
from dsar.db import session_scope, upgrade
from dsar.engine import calendar, get_case
from dsar.errors import InvalidInput, NotFound
from dsar.models import Organisation
from dsar.settings import get_settings

audit_app = typer.Typer(help="감사 로그 (tamper-evident audit log)", no_args_is_help=True)
ACTOR = "cli"


@audit_app.command("verify")
def verify_cmd(
    anchors: Path = typer.Option(None, "--anchors", help="Anchor log to check against (default: the configured "
                                 "one; give a copy kept elsewhere to catch anchors removed from the end)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Recompute the hash chains and check every anchor; exit 1 and name the first broken event if any."""
    if anchors is not None and not anchors.is_file():
        raise InvalidInput(f"앵커 파일 {anchors}이(가) 없습니다 (no such anchor file)", field="anchors")
    upgrade()
    with session_scope() as session:
        report = audit_anchors.verify(session, anchors)
    out = []
    b = report.broken
    if b and b["id"] is None:  # events missing at the end of a chain: there is no row to name
        out.append(f"감사 체인 손상: 체인 {b['chain']}, 순번 {b['seq']}부터: {b['reason']}")
    elif b:
        out.append(f"감사 체인 손상: 사건 id={b['id']} (체인 {b['chain']}, 순번 {b['seq']}, {b['action']}): "
                   f"{b['reason']}")
    for p in report.anchor_problems:
        out.append(f"감사 앵커 손상: 앵커 #{p['anchor'] or '?'} ({p['line']}번째 줄): {p['reason']}")
    if report.ok:
        out.append(f"감사 체인 정상: 체인 {report.chains}개, 사건 {report.events}건, "
                   f"앵커 {report.anchors}개 대조")
        if not report.anchors:
            out.append("주의: 앵커가 없습니다. `dsar audit anchor`로 기록하세요 (no anchors yet)")
    emit(report.as_dict(), as_json, "\n".join(out))
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("anchor")
def anchor_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Append a signed checkpoint of every chain head to the anchor log, and print it (send it elsewhere too)."""
    upgrade()
    path = audit_anchors.log_path()
    with session_scope() as session:
        anchor = audit_anchors.write(session, clock=clock_from_settings(), path=path)
    if as_json:
        emit({"file": str(path), "anchor": anchor.line()}, True)
        return
    heads = ", ".join(f"{h['chain']} 순번 {h['seq']}" for h in anchor.heads) or "체인 없음"
    typer.echo(f"앵커 #{anchor.n} 기록 ({heads}) → {path}", err=True)
    typer.echo(anchor.line())


@audit_app.command("export")
def export_cmd(
    fmt: str = typer.Option("jsonl", "--format", help="jsonl | csv"),
    out: Path = typer.Option(None, "--out", help="File to write (default: standard output)"),
    since: str = typer.Option(None, "--from", help="First Korean day, YYYY-MM-DD (inclusive)"),
    until: str = typer.Option(None, "--to", help="Last Korean day, YYYY-MM-DD (inclusive)"),
    org: str = typer.Option(None, "--org", help="Only this organisation's chain (slug)"),
    case: str = typer.Option(None, "--case", help="Only this case's events (case number)"),
) -> None:
    """Export audit events (JSON lines or CSV) with their hashes, so the file can be verified on its own."""
    audit_export.check_format(fmt)
    upgrade()
    with session_scope() as session:
        org_id = _org(session, org).id if org else None
        request_id = None
        if case:
            found = get_case(session, case)
            if org and found.org_id != org_id:
                raise InvalidInput(f"사건 {case}은(는) 조직 {org}의 사건이 아닙니다 (the case is not in that "
                                   "organisation)", field="case")
            org_id, request_id = found.org_id, found.id
        selection = audit_export.ExportFilter(
            chains=[audit.chain_for(org_id)] if org_id is not None else None, request_id=request_id,
            since=audit_export.parse_day(since, "--from"), until=audit_export.parse_day(until, "--to"),
        )
        audit.record(session, "audit.exported", actor=ACTOR, org_id=org_id, request_id=request_id,
                     at=clock_from_settings().now(), details=selection.details(fmt, case))
    if out:
        written = 0
        with out.open("w", encoding="utf-8", newline="") as f:
            for line in audit_export.lines(selection.query(), fmt):
                f.write(line)
                written += 1
        typer.echo(f"{written - 1 if fmt == 'csv' else written}건 → {out}", err=True)
    else:
        for line in audit_export.lines(selection.query(), fmt):
            typer.echo(line, nl=False)


@audit_app.command("review")
def review_cmd(
    month: str = typer.Option(..., "--month", help="The month to review, YYYY-MM (Korean calendar)"),
    org: str = typer.Option(None, "--org", help="Only this organisation (slug); default: every organisation"),
    fmt: str = typer.Option("md", "--format", help="md | csv"),
    out: Path = typer.Option(None, "--out", help="File to write (default: standard output)"),
) -> None:
    """The monthly access-record review (접속기록 점검): who viewed or exported which cases, sign-ins, account
    changes; recorded as audit.reviewed."""
    if fmt not in ("md", "csv"):
        raise InvalidInput(f"형식 {fmt!r}은(는) 지원하지 않습니다: md 또는 csv (format must be md or csv)",
                           field="format")
    first = audit_review.parse_month(month)
    upgrade()
    clock = clock_from_settings()
    with session_scope() as session:
        organisation = _org(session, org) if org else None
        review = audit_review.build(session, month=first, org=organisation, made_at=clock.now(),
                                    retention_days=get_settings().audit_retention_days, calendar=calendar())
        text = audit_review.markdown(review) if fmt == "md" else audit_review.csv_text(review)
        audit.record(session, "audit.reviewed", actor=ACTOR, org_id=organisation.id if organisation else None,
                     at=clock.now(), details={"month": first.strftime("%Y-%m"), "format": fmt,
                                              "integrity_ok": review.integrity.ok})
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{review.scope} {first.year}년 {first.month}월 점검 보고서 → {out}", err=True)
    else:
        typer.echo(text, nl=fmt == "md")


def _org(session: Session, slug: str) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.slug == slug.strip())).first()
    if org is None:
        raise NotFound(f"조직 '{slug}'을(를) 찾을 수 없습니다: `dsar policy import`로 등록된 슬러그를 쓰세요 (no such "
                       "organisation)", field="org")
    return org


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
