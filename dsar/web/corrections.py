"""Console pages and forms for correcting intake's classification (rules and audit in `dsar.corrections`):
the messages kept as not a request (분류 검토, admin) with the form that opens cases for them, and the forms on
the case page that correct a case's right or agent kind."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from dsar import corrections
from dsar.api import outbox
from dsar.api.cases import Id, Number
from dsar.api.casework import case_for
from dsar.api.deps import ClockDep, SessionDep
from dsar.errors import DsarError, InvalidInput
from dsar.intake import service
from dsar.web.pages import page, redirect
from dsar.web.security import CheckedForm, ConsolePrincipal, flash, text

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/messages")
def messages_page(
    request: Request, session: SessionDep, principal: ConsolePrincipal,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """Messages intake kept as not a request, newest first, each a link to review it."""
    items, total = corrections.review_list(session, principal, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return page(request, "messages.html.j2", items=items, total=total, page_no=page_no, pages=pages)


@router.get("/messages/{inbound_id}")
def message_page(
    inbound_id: Id, request: Request, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal
) -> Response:
    """One such message (an audited read) with the form that opens cases for the rights staff choose."""
    inbound = corrections.for_review(session, principal, inbound_id)
    detail = corrections.review_detail(session, principal, inbound, clock=clock)
    return page(request, "message.html.j2", message=detail)


@router.post("/messages/{inbound_id}/cases")
def open_cases(
    inbound_id: Id, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal, form: CheckedForm
) -> Response:
    inbound = corrections.for_review(session, principal, inbound_id)
    rights = [r for r in form.getlist("rights") if isinstance(r, str)]
    try:
        cases = corrections.open_cases(session, principal, inbound, rights, clock=clock,
                                       agent_kind=text(form, "agent_kind"))
        numbers = [c.number for c in cases]
        session.commit()
    except DsarError as exc:
        session.rollback()
        return flash(redirect(f"/messages/{inbound_id}#open"), exc.message)
    outbox.deliver(service.queued_notices(session, [inbound_id]))
    return flash(redirect(f"/cases/{numbers[0]}"), f"사건을 열었습니다: {', '.join(str(n) for n in numbers)}", "ok")


@router.post("/cases/{number}/corrections/{what}")
def correct_case(
    number: Number, what: Annotated[str, Path(pattern=r"^(right|agent)$")], session: SessionDep, clock: ClockDep,
    principal: ConsolePrincipal, form: CheckedForm,
) -> Response:
    """`right`: the corrected right; `agent`: 법정대리인, 위임 or empty (the data subject in person)."""
    case = case_for(session, principal, number)
    version = text(form, "expected_version")
    try:
        if version is not None and not (version.isdigit() and len(version) < 10):
            raise InvalidInput("expected_version에는 숫자를 입력하세요", field="expected_version")
        expected = int(version) if version else None
        if what == "right":
            changed = corrections.change_right(session, principal, case, text(form, "right") or "", clock=clock,
                                               expected_version=expected)
        else:
            changed = corrections.change_agent(session, principal, case, text(form, "agent_kind"), clock=clock,
                                               expected_version=expected)
        session.commit()
    except DsarError as exc:
        session.rollback()
        return flash(redirect(f"/cases/{number}#classification"), exc.message)
    done = "분류를 정정했습니다" if changed else "바뀐 것이 없습니다"
    return flash(redirect(f"/cases/{number}#classification"), done, "ok")
