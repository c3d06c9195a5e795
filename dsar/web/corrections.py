"""Console pages and forms for correcting intake's classification (rules and audit in `dsar.corrections`):
the messages kept as not a request or quarantined (분류 검토, admin) with the forms that open cases for them or
process a quarantined one again, and the forms on the case page that correct a case's right or agent kind."""

from __future__ import annotations

from typing import Annotated, Literal

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
    status: Literal["not_a_request", "quarantined"] | None = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """Messages intake kept as not a request or quarantined (or one of the two), newest first, each a link to
    review it."""
    items, total = corrections.review_list(session, principal, status=status, limit=PAGE_SIZE,
                                           offset=(page_no - 1) * PAGE_SIZE)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return page(request, "messages.html.j2", items=items, total=total, page_no=page_no, pages=pages, shown=status)


@router.get("/messages/{inbound_id}")
def message_page(
    inbound_id: Id, request: Request, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal
) -> Response:
    """One such message (an audited read) with the form that opens cases for the rights staff choose, and for a
    quarantined one the reason and the form that processes it again."""
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


@router.post("/messages/{inbound_id}/reprocess")
def reprocess(
    inbound_id: Id, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal, form: CheckedForm
) -> Response:
    """다시 처리: intake runs again on a quarantined message; the page it leads to says what became of it."""
    inbound = corrections.for_review(session, principal, inbound_id)
    try:
        result = corrections.reprocess(session, principal, inbound, clock=clock)
        session.commit()
    except DsarError as exc:
        session.rollback()
        return flash(redirect(f"/messages/{inbound_id}"), exc.message)
    outbox.deliver(service.queued_notices(session, [inbound_id]))
    url, message, kind = _reprocessed(result)
    return flash(redirect(url), message, kind)


def _reprocessed(result: service.IntakeResult) -> tuple[str, str, str]:
    """Where to go after 다시 처리, and what to say: the message again (still to review), or where it went."""
    here = f"/messages/{result.inbound_id}"
    if result.problem:
        return here, f"다시 처리했지만 또 격리되었습니다: {result.problem['message']}", "error"
    if result.cases:
        return f"/cases/{result.cases[0]}", f"다시 처리해 사건을 열었습니다: {', '.join(result.cases)}", "ok"
    if result.thread_of:
        return f"/cases/{result.thread_of}", "다시 처리했더니 이 사건에 온 회신이었습니다", "ok"
    if result.status == "not_a_request":
        return here, ("다시 처리했더니 '요구 아님'으로 분류되었습니다. 요구가 맞다면 요구 종류를 골라 사건을 "
                      "여세요"), "ok"
    return "/messages?status=quarantined", "다시 처리했습니다: 반송 메일로 기록되었습니다", "ok"


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
        notice = None
        if what == "right":
            changed, notice = corrections.change_right(session, principal, case, text(form, "right") or "",
                                                       clock=clock, expected_version=expected)
        else:
            changed = corrections.change_agent(session, principal, case, text(form, "agent_kind"), clock=clock,
                                               expected_version=expected)
        session.commit()
    except DsarError as exc:
        session.rollback()
        return flash(redirect(f"/cases/{number}#classification"), exc.message)
    done = "분류를 정정했습니다" if changed else "바뀐 것이 없습니다"
    if notice is not None:
        if notice.status == "queued":
            outbox.deliver([notice.id or 0])
        done += ". 요청인에게 요구 종류를 바로잡은 접수 확인을 보냅니다"
    return flash(redirect(f"/cases/{number}#classification"), done, "ok")
