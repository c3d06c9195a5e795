"""Console pages for staff accounts (admin only, as `dsar.auth.roles` says): list, add, change the role, stop or
restart, reset the password, lift a sign-in lock.

Every change goes through `dsar.auth.accounts`, which writes its audit event in the same transaction. A
generated password is shown once, on the page that answers the post, and never stored or put in a cookie.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from dsar.api.cases import Id
from dsar.api.deps import ClockDep, SessionDep
from dsar.auth import accounts
from dsar.auth.models import StaffUser
from dsar.auth.roles import ROLES, require_admin
from dsar.errors import DsarError, InvalidInput, NotFound
from dsar.models import Organisation
from dsar.web.pages import page, redirect
from dsar.web.security import CheckedForm, ConsolePrincipal, flash, text

router = APIRouter(include_in_schema=False)


def _account(session: Session, user_id: int) -> StaffUser:
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"계정 {user_id}이(가) 없습니다 (no such account)")
    return user


def _orgs(session: Session) -> list[Organisation]:
    return list(session.exec(select(Organisation).order_by(col(Organisation.slug))))


@router.get("/accounts")
def accounts_page(request: Request, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal) -> Response:
    """Every account with its role, organisation, state and last sign-in, and the form to add one."""
    require_admin(principal)
    users = list(session.exec(select(StaffUser).order_by(col(StaffUser.org_id), col(StaffUser.role),
                                                         col(StaffUser.id))))
    orgs = _orgs(session)
    return page(request, "accounts.html.j2", users=users, orgs=orgs, slugs={o.id: o.name for o in orgs},
                locked={u.id for u in users if accounts.is_locked(u, clock.now())}, roles=ROLES)


@router.post("/accounts")
def add_account(
    request: Request, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal, form: CheckedForm
) -> Response:
    """A new account; with the password left empty, one is generated and shown once."""
    require_admin(principal)
    generated = None if form.get("password") else accounts.generate_password()
    try:
        password = generated or _typed_password(form)
        user = accounts.create_user(
            session, email=text(form, "email") or "", name=text(form, "name") or "", role=text(form, "role") or "",
            password=password, org_slug=text(form, "org"), actor=principal.actor, at=clock.now(),
        )
        session.commit()
    except DsarError as exc:
        session.rollback()
        return flash(redirect("/accounts#add"), exc.message)
    if generated:
        return _one_time(request, user, generated, "계정을 만들었습니다")
    return flash(redirect(f"/accounts/{user.id}"), f"{user.email} 계정을 만들었습니다", "ok")


def _typed_password(form: FormData) -> str:
    """The password typed in the form, the same both times (its strength is checked when it is hashed)."""
    password = str(form.get("password") or "")
    if password != str(form.get("confirm") or ""):
        raise InvalidInput("두 번 입력한 비밀번호가 다릅니다 (passwords do not match)", field="confirm")
    return password


def _one_time(request: Request, user: StaffUser, password: str, done: str) -> Response:
    return page(request, "accounts_password.html.j2", user=user, password=password, done=done)


@router.get("/accounts/{user_id}")
def account_page(
    user_id: Id, request: Request, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal
) -> Response:
    require_admin(principal)
    user = _account(session, user_id)
    orgs = _orgs(session)
    org = session.get(Organisation, user.org_id) if user.org_id else None
    return page(request, "accounts_detail.html.j2", user=user, org=org, orgs=orgs, roles=ROLES,
                locked=accounts.is_locked(user, clock.now()), is_self=user.id == principal.user_id)


def _done(user_id: int, message: str) -> Response:
    return flash(redirect(f"/accounts/{user_id}"), message, "ok")


def _refused(session: Session, user_id: int, exc: DsarError) -> Response:
    session.rollback()
    return flash(redirect(f"/accounts/{user_id}"), exc.message)


@router.post("/accounts/{user_id}/role")
def change_role(
    user_id: Id, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal, form: CheckedForm
) -> Response:
    require_admin(principal)
    user = _account(session, user_id)
    try:
        changed = accounts.change_role(session, user, text(form, "role") or "", org_slug=text(form, "org"),
                                       actor=principal.actor, acting_user_id=principal.user_id, at=clock.now())
        session.commit()
    except DsarError as exc:
        return _refused(session, user_id, exc)
    return _done(user_id, "역할을 바꿨습니다" if changed else "바뀐 것이 없습니다")


@router.post("/accounts/{user_id}/active")
def set_active(
    user_id: Id, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal, form: CheckedForm
) -> Response:
    require_admin(principal)
    user = _account(session, user_id)
    active = text(form, "active") == "1"
    try:
        accounts.set_active(session, user, active, actor=principal.actor, acting_user_id=principal.user_id,
                            at=clock.now())
        session.commit()
    except DsarError as exc:
        return _refused(session, user_id, exc)
    return _done(user_id, "계정을 다시 쓸 수 있게 했습니다" if active else "계정 사용을 중지했습니다")


@router.post("/accounts/{user_id}/unlock")
def unlock(
    user_id: Id, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal, form: CheckedForm
) -> Response:
    require_admin(principal)
    user = _account(session, user_id)
    accounts.unlock(session, user, actor=principal.actor, at=clock.now())
    session.commit()
    return _done(user_id, "로그인 잠금을 풀었습니다")


@router.post("/accounts/{user_id}/password")
def reset_password(
    user_id: Id, request: Request, session: SessionDep, clock: ClockDep, principal: ConsolePrincipal,
    form: CheckedForm,
) -> Response:
    """`mode=generate` makes a password and shows it once; otherwise `password` (typed twice) is set."""
    require_admin(principal)
    user = _account(session, user_id)
    generate = text(form, "mode") == "generate"
    try:
        password = accounts.generate_password() if generate else _typed_password(form)
        accounts.set_password(session, user, password, actor=principal.actor, generated=generate, at=clock.now())
        session.commit()
    except DsarError as exc:
        return _refused(session, user_id, exc)
    if generate:
        return _one_time(request, user, password, "비밀번호를 새로 만들었습니다")
    return _done(user_id, "비밀번호를 바꿨습니다: 이 계정의 로그인은 모두 끝났습니다")
