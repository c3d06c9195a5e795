"""/api/me, /api/users, /api/tokens: who is asking, and the admin's accounts and API tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlmodel import col, func, select

from dsar import audit
from dsar.api.cases import Id, Limit, Offset
from dsar.api.deps import ClockDep, PrincipalDep, SessionDep
from dsar.api.schemas import ERRORS, Me, Page, TokenCreated, TokenIn, TokenOut, UserIn, UserOut, UserPatch
from dsar.auth import accounts
from dsar.auth.models import ApiToken, StaffUser
from dsar.auth.roles import ROLE_LABELS, require_admin
from dsar.errors import NotFound
from dsar.models import Organisation

router = APIRouter(tags=["accounts"], responses=ERRORS)


@router.get("/api/me", response_model=Me)
def me(session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    org = session.get(Organisation, principal.org_id) if principal.org_id else None
    return {"kind": principal.kind, "name": principal.name, "email": principal.email, "role": principal.role,
            "role_label": ROLE_LABELS[principal.role], "org": org.slug if org else None,
            "contact_id": principal.contact_id}


def _user_row(u: StaffUser) -> dict[str, Any]:
    return u.model_dump(exclude={"password_hash", "failed_logins"})


@router.get("/api/users", response_model=Page[UserOut])
def list_users(session: SessionDep, principal: PrincipalDep, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    require_admin(principal)
    rows = session.exec(select(StaffUser).order_by(col(StaffUser.id)).limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(StaffUser)).one()
    return {"items": [_user_row(u) for u in rows], "total": int(total), "limit": limit, "offset": offset}


@router.post("/api/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> dict[str, Any]:
    require_admin(principal)
    user = accounts.create_user(session, email=body.email, name=body.name, role=body.role, password=body.password,
                                org_slug=body.org, contact_id=body.contact_id, actor=principal.actor, at=clock.now())
    return _user_row(user)


@router.patch("/api/users/{user_id}", response_model=UserOut)
def update_user(
    user_id: Id, body: UserPatch, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> dict[str, Any]:
    """Deactivate or reactivate an account, set a new password, or lift a sign-in lock."""
    require_admin(principal)
    user = session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"계정 {user_id}이(가) 없습니다 (no such account)")
    if body.password is not None:
        accounts.set_password(session, user, body.password, actor=principal.actor, at=clock.now())
    if body.active is not None:
        accounts.set_active(session, user, body.active, actor=principal.actor, acting_user_id=principal.user_id,
                            at=clock.now())
    if body.unlock:
        accounts.unlock(session, user, actor=principal.actor, at=clock.now())
    session.flush()
    return _user_row(user)


def _token_row(t: ApiToken) -> dict[str, Any]:
    return t.model_dump(exclude={"token_hash"})


@router.get("/api/tokens", response_model=Page[TokenOut])
def list_tokens(session: SessionDep, principal: PrincipalDep, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    require_admin(principal)
    rows = session.exec(select(ApiToken).order_by(col(ApiToken.id)).limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(ApiToken)).one()
    return {"items": [_token_row(t) for t in rows], "total": int(total), "limit": limit, "offset": offset}


@router.post("/api/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenIn, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> dict[str, Any]:
    """A new bearer token, shown once: for a staff account (`user_id`) or with its own role and organisation."""
    require_admin(principal)
    user = None
    if body.user_id is not None:
        user = session.get(StaffUser, body.user_id)
        if user is None:
            raise NotFound(f"계정 {body.user_id}이(가) 없습니다 (no such account)", field="user_id")
    row, token = accounts.create_token(session, name=body.name, actor=principal.actor, role=body.role,
                                       org_slug=body.org, user=user, at=clock.now())
    return {**_token_row(row), "token": token}


@router.delete("/api/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: Id, session: SessionDep, principal: PrincipalDep, clock: ClockDep) -> dict[str, Any]:
    require_admin(principal)
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"토큰 {token_id}이(가) 없습니다 (no such token)")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        session.add(row)
        audit.record(session, "token.revoked", actor=principal.actor, org_id=row.org_id, at=clock.now(),
                     details={"token_id": row.id, "name": row.name})
    return _token_row(row)
