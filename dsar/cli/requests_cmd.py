"""`dsar requests list|show|advance|verify`, `dsar deadline`, `dsar letters render`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from sqlmodel import Session, col, select

from dsar import audit, engine
from dsar.cli import emit
from dsar.db import session_scope, upgrade
from dsar.deadlines import ClockRules, compute_due, rules_for
from dsar.errors import InvalidInput, NotFound
from dsar.models import InboundMessage, Notice, Organisation, Request, WorkflowVersion
from dsar.rights import Right
from dsar.settings import get_settings
from dsar.workflow.definitions import right_workflow
from dsar.workflow.registry import latest_version

requests = typer.Typer(help="사건 조회와 처리 (cases)", no_args_is_help=True)
letters = typer.Typer(help="통지서 (notices)", no_args_is_help=True)


def case_row(session: Session, r: Request, labels: dict[int, dict[str, Any]]) -> dict[str, Any]:
    org = session.get(Organisation, r.org_id) if r.org_id else None
    stage_label = r.stage
    if r.workflow_version_id and r.right:
        if r.workflow_version_id not in labels:
            version = session.get(WorkflowVersion, r.workflow_version_id)
            labels[r.workflow_version_id] = version.definition if version else {}
        stages = labels[r.workflow_version_id].get("workflows", {}).get(r.right, {}).get("stages", {})
        stage_label = stages.get(r.stage, {}).get("label", r.stage)
    elif r.stage == engine.UNROUTED:
        stage_label = "미배정"
    return {
        "request_id": r.number, "org": org.slug if org else None, "right": r.right, "stage": r.stage,
        "stage_label": stage_label, "due": r.due_date.isoformat() if r.due_date else None, "closed": r.closed,
        "agent_kind": r.agent_kind, "duplicate_of": _number(session, r.duplicate_of_id),
        "received_at": r.received_at.isoformat(),
    }


def _notices(session: Session, r: Request) -> list[Notice]:
    return list(session.exec(select(Notice).where(Notice.request_id == r.id).order_by(col(Notice.id))))


def _number(session: Session, request_id: int | None) -> str | None:
    other = session.get(Request, request_id) if request_id else None
    return other.number if other else None


def table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    """A plain aligned table (Hangul counted as two columns wide)."""
    def width(s: str) -> int:
        return sum(2 if "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e" else 1 for ch in s)

    cells = [[str(r.get(k) if r.get(k) is not None else "-") for k, _ in columns] for r in rows]
    heads = [h for _, h in columns]
    widths = [max([width(h)] + [width(c[i]) for c in cells]) for i, h in enumerate(heads)]
    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (w - width(v)) for v, w in zip(values, widths, strict=True)).rstrip()
    return "\n".join([line(heads), line(["-" * w for w in widths])] + [line(c) for c in cells])


CASE_COLUMNS = [("request_id", "사건"), ("org", "조직"), ("right", "권리"), ("stage_label", "단계"), ("due", "기한")]


@requests.command("list")
def list_cmd(
    org: str = typer.Option(None, "--org", help="Organisation slug"),
    unrouted: bool = typer.Option(False, "--unrouted", help="Cases no organisation could be found for"),
    quarantined: bool = typer.Option(False, "--quarantined", help="Messages that could not be parsed"),
    not_a_request: bool = typer.Option(False, "--not-a-request", help="Messages kept as not a request"),
    open_only: bool = typer.Option(False, "--open", help="Only cases not yet closed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List cases by due date (or quarantined / not-a-request messages)."""
    upgrade()
    with session_scope() as session:
        if quarantined or not_a_request:
            status = "quarantined" if quarantined else "not_a_request"
            msgs = session.exec(select(InboundMessage).where(InboundMessage.status == status)
                                .order_by(col(InboundMessage.id))).all()
            rows = [{"inbound_id": m.id, "received_at": m.received_at.isoformat(), "code": m.problem_code,
                     "reason": m.problem_message, "subject": m.summary.get("subject")} for m in msgs]
            emit(rows, as_json, table(rows, [("inbound_id", "메시지"), ("received_at", "수신"),
                                             ("code", "사유"), ("subject", "제목")]))
            return
        query = select(Request).order_by(col(Request.due_date), col(Request.id))
        if unrouted:
            query = query.where(col(Request.org_id).is_(None))
        if open_only:
            query = query.where(col(Request.closed).is_(False))
        if org:
            found = session.exec(select(Organisation).where(Organisation.slug == org)).first()
            if found is None:
                raise NotFound(f"조직 '{org}'이(가) 없습니다: dsar policy import로 먼저 등록하세요")
            query = query.where(Request.org_id == found.id)
        labels: dict[int, dict[str, Any]] = {}
        rows = [case_row(session, r, labels) for r in session.exec(query)]
        emit(rows, as_json, table(rows, CASE_COLUMNS) if rows else "사건이 없습니다")


@requests.command("show")
def show_cmd(ref: str = typer.Argument(..., help="Case number (DSAR-2026-000001) or id"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one case: stage, due date and its arithmetic, allowed actions, notices, audit trail."""
    upgrade()
    with session_scope() as session:
        r = engine.get_case(session, ref)
        data = case_row(session, r, {})
        data.update({
            "rights": r.rights, "channel": r.channel, "subject": r.subject, "details": r.details,
            "requester": {"name": r.requester_name, "email": r.requester_email},
            "due_basis": r.due_basis, "classification": r.classification,
            "allowed": engine.allowed(session, r),
            "notices": [{"id": n.id, "kind": n.kind, "status": n.status, "subject": n.subject, "sha256": n.sha256,
                         "attempts": n.attempts, "last_error": n.last_error} for n in _notices(session, r)],
            "audit": [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "details": e.details}
                      for e in audit.events_for(session, r.id or 0)],
        })
        audit.record(session, "request.viewed", actor="cli", org_id=r.org_id, request_id=r.id)
    human = [f"{data['request_id']}  {data['org'] or '미배정'}  {data['right']}  {data['stage_label']}",
             f"기한 {data['due']}"] + [f"  {line}" for line in r.due_basis.get("basis", [])]
    human += [internal_line(r.due_basis)] if r.due_basis.get("internal_target") else []
    human += ["가능한 처리: " + (", ".join(f"{a['name']}({a['label']})" for a in data["allowed"]) or "없음")]
    human += [f"통지 {n['kind']} [{n['status']}] {n['subject']}" + (f" — {n['last_error']}" if n["last_error"] else "")
              for n in data["notices"]]
    human += [f"{e['at']}  {e['actor']}  {e['action']}" for e in data["audit"]]
    emit(data, as_json, "\n".join(human))


@requests.command("advance")
def advance_cmd(
    ref: str = typer.Argument(..., help="Case number or id"),
    transition: str = typer.Argument(..., help="Transition name (see `requests show`)"),
    actor: str = typer.Option("staff", "--actor", help="Who acts (recorded in the audit log)"),
    reason: str = typer.Option(None, "--reason"),
    ground: str = typer.Option(None, "--ground", help="Legal ground code for refusals"),
    approved_by: str = typer.Option(None, "--approved-by", help="The officer approving a refusal"),
    extension_days: int = typer.Option(None, "--extension-days"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Move a case along one transition its workflow allows."""
    from tasks.notices import queue_delivery

    upgrade()
    with session_scope() as session:
        r = engine.get_case(session, ref)
        engine.advance(session, r, transition, actor=actor, reason=reason, ground=ground,
                       officer_approval=approved_by, extension_days=extension_days)
        queued = list(session.exec(select(Notice.id).where(Notice.request_id == r.id, Notice.status == "queued")))
        data = case_row(session, r, {})
    queue_delivery(queued)
    emit(data, as_json, f"{data['request_id']}: {data['stage_label']} (기한 {data['due']})")


def internal_line(due_basis: dict[str, Any]) -> str:
    """The internal target beside the legal due date (for staff; never in a letter)."""
    return f"내부 목표일 {due_basis['internal_target']}: {due_basis['internal_note']}"


def deadline_cmd(
    received: str = typer.Option(..., "--received", help="ISO 8601 time of receipt, with zone (KST if none)"),
    right: str = typer.Option(..., "--right", help="열람, 정정, 삭제, 처리정지, 동의철회, 전송요구, 자동화결정"),
    org: str = typer.Option(None, "--org", help="Organisation slug: its workflow's clock and internal target"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Compute a due date under 민법 157/161 with Korean holidays, and show the arithmetic (with --org, also the
    organisation's internal target)."""
    try:
        at = datetime.fromisoformat(received)
    except ValueError:
        raise InvalidInput(
            f"--received '{received}'은(는) ISO 8601 시각이 아닙니다 (예: 2026-11-23T10:00+09:00)"
        ) from None
    if at.tzinfo is None:
        from dsar.calendar_kr import KST

        at = at.replace(tzinfo=KST)
    try:
        parsed = Right.parse(right)
    except ValueError:
        raise InvalidInput(f"알 수 없는 권리 '{right}': {', '.join(Right)} 중 하나를 쓰세요") from None
    if org:
        rules = _org_rules(org, parsed)
    else:
        rules = rules_for(parsed, internal_days_without_delay=get_settings().internal_days_without_delay)
    due = compute_due(at, rules, engine.calendar())
    data = due.as_dict() | {"right": parsed.value}
    extra = [internal_line(data)] if due.internal_target else []
    emit(data, as_json, "\n".join([f"기한: {data['due']}"] + due.basis + extra))


def _org_rules(slug: str, right: Right) -> ClockRules:
    """The clock of the organisation's newest workflow for the right."""
    upgrade()
    with session_scope() as session:
        found = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
        version = latest_version(session, found.id) if found is not None and found.id is not None else None
        if version is None:
            raise NotFound(f"조직 '{slug}'이(가) 없습니다: dsar policy import로 먼저 등록하세요")
        if right.value not in version.definition.get("workflows", {}):
            raise InvalidInput(f"조직 '{slug}'의 처리방침에는 '{right.value}' 요구 절차가 없습니다")
        return engine.clock_rules(right_workflow(version.definition, right.value))


@letters.command("render")
def render_cmd(
    ref: str = typer.Argument(..., help="Case number or id"),
    out: Path = typer.Option(None, "--out", help="Folder (default: the notices folder)"),
    pdf: bool = typer.Option(False, "--pdf", help="Also write a PDF (needs the pdf extra)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write a case's stored notices as HTML and text files (and PDF)."""
    upgrade()
    with session_scope() as session:
        r = engine.get_case(session, ref)
        org = session.get(Organisation, r.org_id) if r.org_id else None
        stored = _notices(session, r)
    files = write_notices(stored, out or get_settings().notices_dir, org.name if org else "", pdf=pdf, number=r.number)
    emit([str(f) for f in files], as_json, "\n".join(map(str, files)) or "통지가 없습니다")


def write_notices(stored: list[Notice], folder: Path, org_name: str, *, pdf: bool, number: str | None) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for n in stored:
        stem = folder / f"{number}-{n.seq:02d}-{n.kind}"
        stem.with_suffix(".html").write_text(n.html, encoding="utf-8")
        stem.with_suffix(".txt").write_text(n.text, encoding="utf-8")
        files += [stem.with_suffix(".html"), stem.with_suffix(".txt")]
        if pdf:
            from dsar.letters.pdf import render_pdf
            from dsar.letters.render import Rendered

            rendered = Rendered(kind=n.kind, subject=n.subject, html=n.html, text=n.text, sha256=n.sha256,
                                template_version=n.template_version, context_json=n.context.get("json", ""))
            stem.with_suffix(".pdf").write_bytes(render_pdf(rendered, org_name=org_name))
            files.append(stem.with_suffix(".pdf"))
    return files


def register(app: typer.Typer) -> None:
    from dsar.cli.verify_cmd import verify

    requests.add_typer(verify, name="verify")
    app.add_typer(requests, name="requests")
    app.add_typer(letters, name="letters")
    app.command("deadline")(deadline_cmd)
