"""The requester's page for the identity-check code (no staff sign-in).

    GET  /verify           the form: case number (접수번호) and the six-digit code received by e-mail or SMS
    POST /verify           check the code (dsar.verification.check_code: expiry and attempt limits are the core's)
    POST /verify/new-code  send a new code the same way as the last one, once that one can no longer be used

Forms carry the CSRF token of the signed cookie (double submit, as in the console). A new code is sent only when
the case's check is open and its newest code has expired, been locked or could not be sent, so a stranger who
knows a case number cannot replace a working code; the core caps the codes per case. Every answer that concerns a
case not found, a check not open or no usable code reads the same, so the page does not tell whether a case
exists. While the database cannot be reached, both posts answer 503 with a short page asking to try again later
(never a 500); what the failed post had begun is rolled back, so trying again is safe.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from dsar import verification
from dsar.api.deps import ClockDep, SessionDep
from dsar.auth import sessions
from dsar.clock import Clock
from dsar.errors import DsarError, ServiceUnavailable
from dsar.letters.render import environment
from dsar.models import Organisation
from dsar.models import Request as Case
from dsar.settings import get_settings
from dsar.verification_models import Verification, VerificationChallenge
from dsar.web.pages import csrf_token, security_headers, set_cookie

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
ACTOR = "requester"
NUMBER = re.compile(r"^[A-Z]{2,10}-\d{4}-\d{1,12}$")
DEAD_CODES = ("expired", "locked", "void")
CSRF_PROBLEM = "보안 확인 값이 맞지 않습니다. 이 페이지를 새로 고친 뒤 다시 입력해 주세요."
NO_CODE = ("이 접수번호로 보내 드린 유효한 확인 코드가 없습니다. 접수번호를 확인하시고, 코드를 받으신 지 오래되었으면 "
           "아래에서 새 코드를 받아 주세요.")
NO_NEW_CODE = ("새 확인 코드를 보내 드릴 수 없습니다. 이미 받으신 코드가 아직 유효하면 그 코드를 입력해 주시고, 그렇지 "
               "않으면 담당자에게 문의해 주세요(접수 확인 메일에 회신하시면 됩니다).")


async def _form(request: Request) -> FormData:
    return await request.form()


PostedForm = Annotated[FormData, Depends(_form)]


def _field(form: FormData, name: str, limit: int = 40) -> str:
    value = form.get(name)
    return value.replace("\x00", "").strip()[:limit] if isinstance(value, str) else ""


def _page(request: Request, template: str, *, status: int = 200, **values: Any) -> Response:
    token, new = csrf_token(request)
    html = environment(templates_dir=get_settings().templates_dir).get_template(f"web/{template}.html.j2").render(
        csrf_token=token, **values)
    response = HTMLResponse(html, status_code=status, headers=security_headers())
    if new:
        set_cookie(response, sessions.CSRF_COOKIE, sessions.sign_csrf(token))
    return response


def _form_page(request: Request, *, status: int = 200, number: str = "", problem: str | None = None,
               notice: str | None = None, new_code: bool = False) -> Response:
    return _page(request, "verify_code", status=status, number=number, problem=problem, notice=notice,
                 new_code=new_code, minutes=get_settings().verification_code_ttl_minutes)


def _csrf_ok(request: Request, form: FormData) -> bool:
    submitted = form.get("csrf_token")
    return sessions.csrf_ok(request.cookies.get(sessions.CSRF_COOKIE),
                            submitted if isinstance(submitted, str) else None)


def _unless_unavailable(request: Request, session: Session, answer: Callable[[], Response]) -> Response:
    """The answer, once what it did is committed; or, when the database cannot be reached, the 503 page with
    Retry-After (like the intake form). The commit is made here, not after the route returns, so a failing one
    still reaches this page instead of the generic 500 (and a code accepted but not stored never reads as done)."""
    try:
        response = answer()
        session.commit()
        return response
    except SQLAlchemyError as exc:
        session.rollback()
        log.error("verify page: database unavailable: %s", type(exc).__name__)  # its text quotes parameters
        response = _page(request, "verify_unavailable", status=503)
        response.headers["Retry-After"] = "30"
        return response


def _case(session: Session, number: str) -> Case | None:
    number = number.upper()
    return session.exec(select(Case).where(Case.number == number)).first() if NUMBER.match(number) else None


@router.get("/verify")
def verify_form(request: Request) -> Response:
    return _form_page(request)


@router.post("/verify")
def verify_submit(request: Request, session: SessionDep, clock: ClockDep, form: PostedForm) -> Response:
    return _unless_unavailable(request, session, lambda: _check(request, session, clock, form))


def _check(request: Request, session: Session, clock: Clock, form: FormData) -> Response:
    number, code = _field(form, "number").upper(), re.sub(r"[\s-]", "", _field(form, "code"))
    if not _csrf_ok(request, form):
        return _form_page(request, status=403, number=number, problem=CSRF_PROBLEM)
    if not NUMBER.match(number):
        return _form_page(request, status=422, number=number,
                          problem="접수번호를 확인해 주세요. 안내 메일 제목에 있는 DSAR-2026-000123 모양의 번호입니다.")
    if not re.fullmatch(r"\d{6}", code):
        return _form_page(request, status=422, number=number, problem="확인 코드는 숫자 6자리입니다.")
    case = _case(session, number)
    result = verification.check_code(session, case, code, actor=ACTOR, clock=clock) if case else \
        verification.CodeCheck("no_code")
    if result.ok and case is not None:
        org = session.get(Organisation, case.org_id) if case.org_id else None
        return _page(request, "verify_done", number=case.number, org_name=org.name if org else "")
    max_attempts = get_settings().verification_max_attempts
    problem, status = {
        "wrong": (f"확인 코드가 맞지 않습니다. 앞으로 {result.attempts_left}번 더 입력할 수 있습니다.", 422),
        "expired": ("확인 코드의 유효 시간이 지났습니다. 아래에서 새 코드를 받아 주세요.", 422),
        "locked": (f"확인 코드를 {max_attempts}번 잘못 입력하여 이 코드는 더 이상 쓸 수 없습니다(시도 횟수 초과). "
                   "아래에서 새 코드를 받아 주세요.", 429),
    }.get(result.outcome, (NO_CODE, 422))
    return _form_page(request, status=status, number=number, problem=problem,
                      new_code=result.outcome in ("expired", "locked", "no_code"))


@router.post("/verify/new-code")
def new_code(request: Request, session: SessionDep, clock: ClockDep, form: PostedForm) -> Response:
    return _unless_unavailable(request, session, lambda: _send_new_code(request, session, clock, form))


def _send_new_code(request: Request, session: Session, clock: Clock, form: FormData) -> Response:
    number = _field(form, "number").upper()
    if not _csrf_ok(request, form):
        return _form_page(request, status=403, number=number, problem=CSRF_PROBLEM, new_code=True)
    case = _case(session, number)
    last = _replaceable_code(session, case, clock) if case else None
    if case is None or last is None:
        return _form_page(request, status=422, number=number, problem=NO_NEW_CODE)
    try:
        verification.send_code(session, case, method=last.method, actor=ACTOR, clock=clock)
    except ServiceUnavailable:  # the e-mail or SMS could not be sent (that code is void)
        return _form_page(request, status=503, number=number, new_code=True,
                          problem="지금은 확인 코드를 보내 드릴 수 없습니다. 잠시 뒤 다시 시도해 주세요.")
    except DsarError:  # the codes per case are used up, or the address is gone
        session.rollback()
        return _form_page(request, status=422, number=number, problem=NO_NEW_CODE)
    where = "전자우편으로" if last.method == "email_code" else "휴대전화로"
    minutes = get_settings().verification_code_ttl_minutes
    return _form_page(request, number=number,
                      notice=f"새 확인 코드를 {where} 보내 드렸습니다. {minutes}분 안에 입력해 주세요.")


def _replaceable_code(session: Session, case: Case, clock: Clock) -> VerificationChallenge | None:
    """The newest code of an open check, if it can no longer be used (so a new one replaces nothing)."""
    v = session.exec(select(Verification).where(Verification.request_id == case.id)).first()
    last = session.exec(select(VerificationChallenge).where(VerificationChallenge.request_id == case.id)
                        .order_by(col(VerificationChallenge.id).desc())).first()
    if v is None or v.status != "open" or last is None:
        return None
    if last.status == "pending":
        return last if clock.now() >= last.expires_at else None
    return last if last.status in DEAD_CODES else None
