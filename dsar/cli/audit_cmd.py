"""`dsar audit verify|export`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import typer
from sqlmodel import col, select

from dsar import audit
from dsar.cli import emit
from dsar.db import session_scope, upgrade
from dsar.models import AuditEvent

audit_app = typer.Typer(help="감사 로그 (tamper-evident audit log)", no_args_is_help=True)


@audit_app.command("verify")
def verify_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Recompute the hash chains; exit 1 and name the first broken event if any."""
    upgrade()
    with session_scope() as session:
        report = audit.verify(session)
    b = report.broken
    human = (f"감사 체인 정상: 체인 {report.chains}개, 사건 {report.events}건" if report.ok else
             f"감사 체인 손상: 사건 id={b['id']} (체인 {b['chain']}, 순번 {b['seq']}, {b['action']}): {b['reason']}")
    emit(report.as_dict(), as_json, human)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def export_cmd(
    fmt: str = typer.Option("jsonl", "--format", help="jsonl | csv"),
    out: Path = typer.Option(None, "--out", help="File to write (default: standard output)"),
    case: str = typer.Option(None, "--case", help="Only this case's events"),
) -> None:
    """Export audit events (JSON lines or CSV) with their hashes."""
    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter("--format must be jsonl or csv")
    upgrade()
    with session_scope() as session:
        query = select(AuditEvent).order_by(col(AuditEvent.id))
        if case:
            from dsar.engine import get_case

            query = query.where(AuditEvent.request_id == get_case(session, case).id)
        rows = [e.model_dump(mode="json") for e in session.exec(query)]
    buf = io.StringIO()
    if fmt == "jsonl":
        for row in rows:
            buf.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    else:
        fields = list(AuditEvent.model_fields)
        writer = csv.DictWriter(buf, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "details": json.dumps(row["details"], ensure_ascii=False, sort_keys=True)})
    if out:
        out.write_text(buf.getvalue(), encoding="utf-8")
        typer.echo(f"{len(rows)}건 → {out}", err=True)
    else:
        typer.echo(buf.getvalue(), nl=False)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
