"""`dsar requests verify status|start|send-code|check-code|document|tick|login`: a case's identity check
(본인확인) from the command line, for staff working by phone, letter or visit.

The actor named with --actor is recorded in the audit log, as with `dsar requests advance`. The rules (methods,
code limits, moving the case on when done) are `dsar.verification`'s; the state shown is the API's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from sqlmodel import Session, select

from dsar import audit, engine, verification
from dsar.calendar_kr import KST
from dsar.cli import emit
from dsar.clock import clock_from_settings
from dsar.db import session_scope, upgrade
from dsar.models import Notice, Request

verify = typer.Typer(help="본인확인: 시작, 확인 코드 보내기·확인, 신분증 확인, 대리인 확인 항목 (identity checks)",
                     no_args_is_help=True)
METHODS = {"email": "email_code", "email_code": "email_code", "sms": "phone_code", "phone": "phone_code",
           "phone_code": "phone_code"}
OUTCOMES = {"verified": "확인 코드가 맞습니다: 본인확인을 기록했습니다", "wrong": "확인 코드가 맞지 않습니다",
            "expired": "확인 코드의 유효 시간이 지났습니다: 새 코드를 보내세요",
            "locked": "확인 코드를 너무 여러 번 잘못 입력해 쓸 수 없습니다(시도 횟수 초과): 새 코드를 보내세요",
            "no_code": "이 사건에 쓸 수 있는 확인 코드가 없습니다: 먼저 코드를 보내세요"}

Ref = typer.Argument(..., help="Case number (DSAR-2026-000001) or id")
Actor = typer.Option("staff", "--actor", help="Who acts (recorded in the audit log)")
Json = typer.Option(False, "--json")


def _when(value: Any) -> str:
    return value.astimezone(KST).strftime("%Y-%m-%d %H:%M") if value else "-"


def describe(data: dict[str, Any]) -> str:
    """The state in Korean, one fact per line."""
    methods = ", ".join(m["label"] + ("" if m["usable"] else "(연락처 없음)") for m in data["methods"]) or "-"
    lines = [f"{data['number']} 본인확인: {data['status_label']} ({data['requirement_label']})", f"방법: {methods}"]
    if data["status"] == "open":
        lines.append(f"확인 기한: {_when(data['close_at'])} (지나면 본인확인 불가로 종결)")
    if data["code"]:
        c = data["code"]
        lines.append(f"최근 코드: {verification.METHOD_LABELS[c['method']]} · {c['status_label']} · 입력 "
                     f"{c['attempts']}/{c['max_attempts']}회 · {_when(c['expires_at'])}까지 "
                     f"(보낸 코드 {data['codes_sent']}/{data['max_codes']})")
    for c in data["checks"]:
        if c["method"] != "checklist":
            what = f"{c['label']}: {c['item_label']}" if c["item_label"] else c["label"]
            lines.append(f"확인: {what} ({c['by']}, {_when(c['at'])})")
    if data["checklist"]:
        lines.append("대리인 확인 항목:")
        lines += [f"  [{'x' if i['done'] else ' '}] {i['item']}: {i['label']}" for i in data["checklist"]]
    return "\n".join(lines)


def _deliver_queued(session: Session, case: Request) -> None:
    """Hand the notices the step queued (an agent's documents request) to the outbox, after commit."""
    from tasks.notices import queue_delivery

    queue_delivery(list(session.exec(
        select(Notice.id).where(Notice.request_id == case.id, Notice.status == "queued"))))  # type: ignore[arg-type]


def _act(ref: str, as_json: bool, step: Callable[[Session, Request], tuple[bool, str]]) -> None:
    """Run one step in its own transaction, hand over what it queued, print what happened and the new state;
    exit 1 when the step did not succeed (a code that could not be sent)."""
    upgrade()
    with session_scope() as session:
        ok, message = step(session, engine.get_case(session, ref))
    with session_scope() as session:
        case = engine.get_case(session, ref)
        _deliver_queued(session, case)
        data = _state(session, case)
    emit({"ok": ok, "message": message, "verification": data}, as_json, f"{message}\n{describe(data)}")
    if not ok:
        raise typer.Exit(1)


@verify.command("status")
def status_cmd(ref: str = Ref, as_json: bool = Json) -> None:
    """Show what the check needs, what is done, the newest code's state and the agent checklist."""
    upgrade()
    with session_scope() as session:
        case = engine.get_case(session, ref)
        data = _state(session, case)
        audit.record(session, "request.viewed", actor="cli", org_id=case.org_id, request_id=case.id,
                     details={"via": "cli", "part": "verification"})
    emit(data, as_json, describe(data))


@verify.command("start")
def start_cmd(ref: str = Ref, actor: str = Actor, as_json: bool = Json) -> None:
    """Begin the check (a just-received case moves to 본인확인; an agent is asked for the documents)."""
    def step(session: Session, case: Request) -> tuple[bool, str]:
        verification.start(session, case, actor=actor, clock=clock_from_settings())
        return True, "본인확인을 시작했습니다"

    _act(ref, as_json, step)


@verify.command("send-code")
def send_code_cmd(
    ref: str = Ref,
    method: str = typer.Option(..., "--method", help="email (e-mail code) or sms (text message code)"),
    actor: str = Actor, as_json: bool = Json,
) -> None:
    """Send a new six-digit code to the requester's e-mail address or phone (older codes stop working); exits 1
    when it could not be sent."""
    chosen = METHODS.get(method.strip().lower(), method)
    _act(ref, as_json,
         lambda session, case: _send_code(session, case, chosen, actor=actor, clock=clock_from_settings()))


@verify.command("check-code")
def check_code_cmd(
    ref: str = Ref, code: str = typer.Argument(..., help="The six digits the requester read out"),
    actor: str = Actor, as_json: bool = Json,
) -> None:
    """Check a code the requester gives (e.g. over the phone); exits 1 unless it is right. A wrong code counts
    as an attempt."""
    upgrade()
    with session_scope() as session:
        case = engine.get_case(session, ref)
        result = verification.check_code(session, case, code, actor=actor, clock=clock_from_settings())
        data = {"outcome": result.outcome, "attempts_left": result.attempts_left, "verification": _state(session, case)}
    message = OUTCOMES[result.outcome] + (f" (남은 입력 {result.attempts_left}회)" if result.outcome == "wrong" else "")
    emit(data, as_json, f"{message}\n{describe(data['verification'])}")
    if not result.ok:
        raise typer.Exit(1)


@verify.command("document")
def document_cmd(
    ref: str = Ref,
    kind: str = typer.Option(..., "--type", help="Kind of ID looked at: " + ", ".join(verification.DOCUMENT_TYPES)),
    actor: str = Actor, as_json: bool = Json,
) -> None:
    """Record that staff looked at the requester's ID document (only who, when and which kind are kept)."""
    def step(session: Session, case: Request) -> tuple[bool, str]:
        verification.record_document_check(session, case, document_type=kind, actor=actor, clock=clock_from_settings())
        return True, f"{verification.DOCUMENT_TYPES[kind]} 확인을 기록했습니다"

    _act(ref, as_json, step)


@verify.command("tick")
def tick_cmd(
    ref: str = Ref, item: str = typer.Argument(..., help="A checklist item (see `status`)"),
    actor: str = Actor, as_json: bool = Json,
) -> None:
    """Tick one item of the agent checklist (법정대리인 / 위임); the last one completes the check."""
    def step(session: Session, case: Request) -> tuple[bool, str]:
        verification.tick(session, case, item, actor=actor, clock=clock_from_settings())
        return True, f"확인 항목 {item}을(를) 확인함으로 기록했습니다"

    _act(ref, as_json, step)


@verify.command("login")
def login_cmd(ref: str = Ref, actor: str = Actor, as_json: bool = Json) -> None:
    """Record that the requester signed in to the organisation's service."""
    def step(session: Session, case: Request) -> tuple[bool, str]:
        verification.confirm_login(session, case, actor=actor, clock=clock_from_settings())
        return True, "로그인으로 본인임을 확인했다고 기록했습니다"

    _act(ref, as_json, step)


def _state(session: Session, case: Request) -> dict[str, Any]:
    from dsar.api.verification_routes import state  # the API's view of a check; imported late (web stack)

    return state(session, case)


def _send_code(session: Session, case: Request, method: str, **kwargs: Any) -> Any:
    from dsar.api.verification_routes import send_code

    return send_code(session, case, method, **kwargs)
