"""`dsar intake eml`: take in e-mail files the way the mail hooks do."""

from __future__ import annotations

from pathlib import Path

import typer

from dsar.cli import emit
from dsar.clock import SystemClock
from dsar.db import session_scope, upgrade
from dsar.errors import InvalidInput
from dsar.intake import service

intake = typer.Typer(help="요구 접수 (take in requests)", no_args_is_help=True)


def ingest_files(files: list[Path], *, source: str = "cli") -> list[dict]:
    """Store each file raw, process it, and hand the notices it queued to the outbox (a worker, or inline)."""
    from tasks.notices import queue_delivery

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise InvalidInput(f"파일이 없습니다: {', '.join(missing)} (file not found)", files=missing)
    upgrade()
    clock, results = SystemClock(), []
    for path in files:
        with session_scope() as session:
            inbound, _ = service.store(session, path.read_bytes(), source=source, clock=clock)
        with session_scope() as session:
            result = service.process(session, inbound.id or 0, clock=clock)
            notice_ids = service.queued_notices(session, [inbound.id or 0])
        queue_delivery(notice_ids)
        results.append({"file": str(path), **result.as_dict()})
    return results


@intake.command("eml")
def eml_cmd(
    files: list[Path] = typer.Argument(..., help="RFC 5322 message files (.eml)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Take in e-mail files: store, classify, route, open cases, acknowledge."""
    results = ingest_files(files)
    lines = []
    for r in results:
        if r["status"] == "quarantined":
            lines.append(f"{r['file']}: 격리됨 ({r['problem']['code']}: {r['problem']['message']})")
        elif r["not_a_request"]:
            lines.append(f"{r['file']}: 요구가 아님 (보관, 검토 목록)")
        elif r["thread_of"]:
            lines.append(f"{r['file']}: {r['thread_of']}의 회신으로 연결")
        else:
            extra = f", 중복: {r['duplicate_of']}" if r["duplicate_of"] else ""
            lines.append(f"{r['file']}: {', '.join(r['cases'])} [{r['org'] or '미배정'}] "
                         f"{'·'.join(r['rights'])} 기한 {r['due']}{extra}")
    emit(results, as_json, "\n".join(lines))


@intake.command("staff")
def staff_cmd(
    org: str = typer.Option(..., "--org", help="organisation slug"),
    rights: list[str] = typer.Option(..., "--right", help="열람, 정정, 삭제, 처리정지, 동의철회, 전송요구, 자동화결정 "
                                     "(or the English key); repeat for several"),
    channel: str = typer.Option(..., "--channel", help="phone | written | visit | fax"),
    received: str = typer.Option(..., "--received", help="when the request reached you, ISO 8601 "
                                 "(2026-11-20T14:00+09:00; without a zone: Seoul time)"),
    name: str = typer.Option(..., "--name", help="requester's name"),
    email: str = typer.Option("", "--email", help="e-mail for the acknowledgement and the answer"),
    phone: str = typer.Option("", "--phone"),
    details: str = typer.Option("", "--details", help="what was asked, in the requester's words"),
    agent_kind: str = typer.Option("", "--agent-kind", help="법정대리인 | 위임 (when an agent asked)"),
    actor: str = typer.Option("", "--actor", help="who took the request (default: the login name)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Enter a request taken by phone, letter, visit or fax: opens the case(s); the clock runs from --received."""
    import getpass

    from dsar.intake import staff
    from tasks.notices import queue_delivery

    upgrade()
    entry = staff.StaffEntry(
        org=org, rights=rights, channel=channel, received_at=staff.parse_received(received), name=name or None,
        email=email or None, phone=phone or None, details=details, agent_kind=agent_kind or None,
    )
    with session_scope() as session:
        result = staff.enter(session, entry, clock=SystemClock(), actor=actor or f"staff:{getpass.getuser()}")
    queue_delivery(result.notices)
    human = [f"{', '.join(result.cases)} [{result.org}] {'·'.join(result.rights)} "
             f"({staff.CHANNELS[result.channel]} 접수) 기한 {result.due}"]
    if result.duplicate_of:
        human.append(f"중복: {result.duplicate_of}")
    human += [f"주의: {w}" for w in result.warnings]
    emit(result.as_dict(), as_json, "\n".join(human))


def register(app: typer.Typer) -> None:
    app.add_typer(intake, name="intake")
