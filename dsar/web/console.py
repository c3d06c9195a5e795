"""Console pages: sign-in, the queue, a case and the actions on it.

Every action is a plain HTML form post (no JavaScript needed) carrying the CSRF token; it goes through the same
`casework` / `outbox` functions as the API, then redirects back to the case (post/redirect/get), with the
engine's message shown when it refused.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlmodel import col, select

from dsar import audit
from dsar.api import casework, outbox, queries
from dsar.api.cases import Id, Number, OrgQuery
from dsar.api.deps import ClockDep, SessionDep, cookie_principal
from dsar.api.verification_routes import state as verification_state
from dsar.auth import accounts, sessions
from dsar.auth.roles import ADMIN, OFFICER, ROLE_LABELS
from dsar.calendar_kr import kst_date
from dsar.errors import DsarError, InvalidInput
from dsar.models import ContactPerson, Organisation
from dsar.rights import Right
from dsar.settings import get_settings
from dsar.web.pages import page, redirect, set_cookie
from dsar.web.security import CheckedForm, ConsolePrincipal, flash, text

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never //other.example or a full URL) is followed after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


@router.get("/")
def home() -> Response:
    return redirect("/queue")


@router.get("/login")
def login_page(
    request: Request, session: SessionDep, clock: ClockDep, next: Annotated[str, Query(max_length=500)] = "/queue"
) -> Response:
    if cookie_principal(request, session, clock) is not None:
        return redirect(_safe_next(next))
    return _login_page(request, next=_safe_next(next), error=None, email="")


def _login_page(request: Request, *, status: int = 200, **values: Any) -> Response:
    settings = get_settings()
    return page(request, "login.html.j2", status=status, me=None, max_failures=settings.login_max_failures,
                lock_minutes=settings.login_lock_minutes, **values)


@router.post("/login")
def login(request: Request, session: SessionDep, clock: ClockDep, form: CheckedForm) -> Response:
    email, password = text(form, "email") or "", str(form.get("password") or "")
    target = _safe_next(text(form, "next"))
    result = accounts.sign_in(session, email, password, clock=clock,
                              ip=request.client.host if request.client else None)
    if result.user is None:
        return _login_page(request, status=401, next=target, error=result.message, email=email)
    response = redirect(target)
    set_cookie(response, sessions.SESSION_COOKIE, sessions.issue_session(result.user, clock.now()),
               max_age=get_settings().session_hours * 3600)
    set_cookie(response, sessions.CSRF_COOKIE, sessions.sign_csrf(sessions.new_csrf_token()))  # a fresh token
    return response


@router.post("/logout")
def logout(principal: ConsolePrincipal, session: SessionDep, clock: ClockDep, form: CheckedForm) -> Response:
    audit.record(session, "auth.logout", actor=principal.actor, at=clock.now(), details={"user_id": principal.user_id})
    response = redirect("/login")
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    response.delete_cookie(sessions.CSRF_COOKIE, path="/")
    return response


def _flag(value: str | None) -> bool:
    return value in ("1", "true", "on", "yes")


@router.get("/queue")
def queue(
    request: Request, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal,
    org: OrgQuery = None,
    right: Annotated[str | None, Query(max_length=10)] = None,
    stage: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]*$")] = None,
    assignee: Annotated[str | None, Query(pattern=r"^(|me|none|\d{1,9})$")] = None,
    status: Annotated[str, Query(pattern=r"^(open|closed|all)$")] = "open",
    overdue: str | None = None,
    unrouted: str | None = None,
    due_before: date | None = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """Cases by due date with D-day badges, filters and the count at each stage."""
    today = kst_date(clock.now())
    rights = [str(r) for r in Right]
    f = queries.CaseFilter(
        org=org or None, right=right if right in rights else None, stage=stage or None, assignee=assignee or None,
        due_before=due_before, overdue=_flag(overdue), unrouted=_flag(unrouted),
        closed={"open": False, "closed": True, "all": None}[status], limit=PAGE_SIZE,
        offset=(page_no - 1) * PAGE_SIZE,
    )
    items, total = queries.list_cases(session, principal, f, today)
    counts = queries.count_by_stage(session, principal, f, today)
    labels = queries.all_stage_labels()
    filters = {"org": org or "", "right": f.right or "", "stage": stage or "", "assignee": assignee or "",
               "status": status, "overdue": "1" if f.overdue else "", "unrouted": "1" if f.unrouted else "",
               "due_before": due_before.isoformat() if due_before else ""}
    orgs = list(session.exec(select(Organisation).order_by(col(Organisation.slug)))) if principal.is_admin else []

    def link(**change: Any) -> str:
        merged = {**filters, **{k: ("" if v is None else str(v)) for k, v in change.items()}}
        return "/queue?" + urlencode({k: v for k, v in merged.items() if v})

    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return page(request, "queue.html.j2", items=items, total=total, counts=counts, labels=labels,
                filters=filters, rights=rights, orgs=orgs, today=today, page_no=page_no, pages=pages, link=link)


@router.get("/cases/{number}")
def case_page(
    number: Number, request: Request, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal
) -> Response:
    """The case: requester, masked message, classification evidence, due-date arithmetic, timeline, actions."""
    case = casework.case_for(session, principal, number)
    detail = casework.view(session, principal, case, clock=clock)
    notices, _ = outbox.notices_of(session, case, limit=200)
    notes, _ = casework.notes(session, case, limit=200, offset=0)
    contacts = list(session.exec(select(ContactPerson).where(ContactPerson.org_id == case.org_id)
                                 .order_by(col(ContactPerson.role), col(ContactPerson.id)))) if case.org_id else []
    detail["timeline"] = _compact(detail["timeline"])
    return page(
        request, "case.html.j2", case=detail, notices=[outbox.notice_row(n) for n in notices], notes=notes,
        contacts=contacts, may_assign=principal.role in (OFFICER, ADMIN) and not case.closed and case.org_id,
        may_work=casework.may_work(principal, case), is_officer=principal.role == OFFICER, role_labels=ROLE_LABELS,
        verification=verification_state(session, case),
    )


VIEWS = frozenset({"request.viewed", "notice.previewed", "notice.downloaded"})


def _compact(timeline: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive views by the same person read as one line with a count (each is still its own audit event)."""
    out: list[dict[str, Any]] = []
    for entry in timeline:
        previous = out[-1] if out else None
        if previous and entry["action"] in VIEWS and (previous["action"], previous["actor"]) == (entry["action"],
                                                                                                  entry["actor"]):
            out[-1] = {**entry, "repeat": previous.get("repeat", 1) + 1}
        else:
            out.append(entry)
    return out


def _back(number: str, anchor: str = "") -> str:
    return f"/cases/{number}{anchor}"


def _lines(value: str | None) -> list[str] | None:
    items = [line.strip() for line in (value or "").splitlines() if line.strip()]
    return items or None


@router.post("/cases/{number}/transitions")
def do_transition(
    number: Number, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal, form: CheckedForm
) -> Response:
    case = casework.case_for(session, principal, number)
    name = text(form, "name") or ""
    try:
        days = text(form, "extension_days")
        version = text(form, "expected_version")
        decision = {k: v for k, v in (("items", _lines(text(form, "items"))),
                                      ("withheld_items", _lines(text(form, "withheld_items")))) if v}
        made = casework.transition(
            session, principal, case, name, clock=clock, reason=text(form, "reason"), ground=text(form, "ground"),
            extension_days=_int(days, "extension_days"), expected_version=_int(version, "expected_version"),
            decision=decision or None,
        )
        label = casework.workflow(session, case).stage_label(case.stage)  # type: ignore[union-attr]
        session.commit()
    except DsarError as exc:
        session.rollback()
        return flash(redirect(_back(number, "#actions")), exc.message)
    if _flag(text(form, "deliver")):
        outbox.deliver([n.id for n in made if n.status == "queued" and n.id is not None])
    return flash(redirect(_back(number)), f"'{label}' 단계로 옮겼습니다", "ok")


def _int(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 9:
        raise InvalidInput(f"{field}에는 숫자를 입력하세요", field=field)
    return int(value)


@router.post("/cases/{number}/assignee")
def do_assign(
    number: Number, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal, form: CheckedForm
) -> Response:
    case = casework.case_for(session, principal, number)
    try:
        chosen = _int(text(form, "assignee_id"), "assignee_id")
        if chosen is None:
            raise InvalidInput("배정할 담당자를 고르세요", field="assignee_id")
        made = casework.reassign(session, principal, case, chosen, clock=clock,
                                 expected_version=_int(text(form, "expected_version"), "expected_version"))
        session.commit()
    except DsarError as exc:
        session.rollback()
        return flash(redirect(_back(number, "#assign")), exc.message)
    outbox.deliver([n.id for n in made if n.status == "queued" and n.id is not None])
    return flash(redirect(_back(number)), "담당자를 바꿨습니다", "ok")


@router.post("/cases/{number}/notes")
def do_note(
    number: Number, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal, form: CheckedForm
) -> Response:
    case = casework.case_for(session, principal, number)
    try:
        casework.add_note(session, principal, case, text(form, "body") or "", clock=clock)
        session.commit()
    except DsarError as exc:
        session.rollback()
        return flash(redirect(_back(number, "#notes")), exc.message)
    return flash(redirect(_back(number, "#notes")), "메모를 남겼습니다", "ok")


@router.post("/cases/{number}/notices/{notice_id}/{action}")
def do_notice(
    number: Number, notice_id: Id, action: Annotated[str, Path(pattern=r"^(approve|send)$")], session: SessionDep,
    clock: ClockDep, principal: ConsolePrincipal,
    form: CheckedForm,
) -> Response:
    case = casework.case_for(session, principal, number)
    notice = outbox.notice_for(session, case, notice_id)
    try:
        if action == "approve":
            outbox.approve(session, principal, case, notice, clock=clock)
            hand_over, done = notice.status == "queued", "통지서를 승인했습니다"
        elif action == "send":
            hand_over, done = outbox.send(session, principal, case, notice, clock=clock), "통지를 발송했습니다"
        else:
            raise InvalidInput(f"알 수 없는 작업 '{action}'")
        session.commit()
    except DsarError as exc:
        session.rollback()
        return flash(redirect(_back(number, "#notices")), exc.message)
    if hand_over:
        outbox.deliver([notice_id])
        session.refresh(notice)
        if notice.status == "failed":
            return flash(redirect(_back(number, "#notices")), f"발송하지 못했습니다: {notice.last_error}")
        if notice.status != "sent":
            done = "발송을 요청했습니다 (발송 대기열)"
    return flash(redirect(_back(number, "#notices")), done, "ok")
