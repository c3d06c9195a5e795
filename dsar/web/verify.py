"""Console forms of the case page's 본인확인 section: start the check, send a code, record an ID document check,
tick the agent checklist, record a login.

Each is a form post with the CSRF token, checked like every change to a case (the officer, or the handler the
case is assigned to), done through `dsar.verification`, then back to the case with what happened
(post/redirect/get).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from sqlmodel import Session

from dsar import verification
from dsar.api import casework
from dsar.api.cases import Number
from dsar.api.deps import ClockDep, SessionDep
from dsar.api.verification_routes import require_worker, send_code
from dsar.clock import Clock
from dsar.errors import DsarError
from dsar.models import Request
from dsar.web.pages import redirect
from dsar.web.security import CheckedForm, ConsolePrincipal, flash, text

router = APIRouter(include_in_schema=False)
Action = Annotated[str, Path(pattern=r"^(start|codes|documents|checklist|login)$")]


@router.post("/cases/{number}/verification/{action}")
def do_verification(
    number: Number, action: Action, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal,
    form: CheckedForm,
) -> Response:
    case = casework.case_for(session, principal, number)
    back = redirect(f"/cases/{number}#verification")
    stage = case.stage
    try:
        require_worker(principal, case)
        ok, message = _perform(session, case, action, form, actor=principal.actor, clock=clock)
        session.commit()
    except DsarError as exc:
        session.rollback()
        return flash(back, exc.message)
    if case.stage != stage and stage == "verifying":
        label = casework.workflow(session, case).stage_label(case.stage)  # type: ignore[union-attr]
        message += f" (본인확인 완료: '{label}' 단계로 옮김)"
    return flash(back, message, "ok" if ok else "error")


def _perform(session: Session, case: Request, action: str, form: CheckedForm, *, actor: str, clock: Clock
             ) -> tuple[bool, str]:
    if action == "start":
        verification.start(session, case, actor=actor, clock=clock)
        return True, "본인확인을 시작했습니다"
    if action == "codes":
        return send_code(session, case, text(form, "method") or "", actor=actor, clock=clock)
    if action == "documents":
        kind = text(form, "document_type") or ""
        verification.record_document_check(session, case, document_type=kind, actor=actor, clock=clock)
        return True, f"{verification.DOCUMENT_TYPES[kind]} 확인을 기록했습니다"
    if action == "checklist":
        item = text(form, "item") or ""
        verification.tick(session, case, item, actor=actor, clock=clock)
        label = {i.code: i.label for i in verification.AGENT_CHECKLISTS[case.agent_kind or ""]}[item]
        return True, f"확인함: {label}"
    verification.confirm_login(session, case, actor=actor, clock=clock)
    return True, "로그인으로 본인임을 확인했다고 기록했습니다"
