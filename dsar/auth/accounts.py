"""Staff accounts and API tokens: creating them, signing in, and turning a token into a `Principal`.

Signing in never raises: a failure must still be written (the failed-attempt counter and its audit event), so
`sign_in` returns a `SignIn` and the caller commits either way. After `login_max_failures` failures in a row the
account is locked for `login_lock_minutes`; while locked even the right password is refused.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from dsar import audit
from dsar.auth import passwords
from dsar.auth.models import ApiToken, StaffUser
from dsar.auth.roles import ADMIN, HANDLER, OFFICER, Principal, parse_role
from dsar.clock import Clock, clock_from_settings
from dsar.errors import Conflict, InvalidInput, NotFound
from dsar.models import ContactPerson, Organisation
from dsar.settings import get_settings

TOKEN_PREFIX = "dsar_"
_LAST_USED_EVERY = timedelta(minutes=5)  # how stale `last_used_at` may get before a request writes it again


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or len(email) > 320:
        raise InvalidInput(f"'{email}'은(는) 전자우편 주소가 아닙니다 (not an e-mail address)", field="email")
    return email


def find_org(session: Session, slug: str) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.slug == slug)).first()
    if org is None:
        raise NotFound(f"조직 '{slug}'이(가) 없습니다: dsar policy import로 먼저 등록하세요", field="org")
    return org


def create_user(
    session: Session, *, email: str, name: str, role: str, password: str | None = None,
    password_hash: str | None = None, org_slug: str | None = None, contact_id: int | None = None,
    actor: str = "cli", at: datetime | None = None,
) -> StaffUser:
    """Create an account. Staff of an organisation are linked to the ContactPerson cases get assigned to: the
    given one, or the policy's contact with the same e-mail and role, or a new contact made for them.

    `password_hash` takes an existing argon2 hash instead of a password (accounts moved from another system).
    """
    if (password is None) == (password_hash is None):
        raise InvalidInput("비밀번호를 주세요 (give password or password_hash)", field="password")
    if password_hash is not None and not password_hash.startswith("$argon2"):
        raise InvalidInput("argon2 해시만 받습니다 (password_hash must be an argon2 hash)", field="password_hash")
    email, role = normalise_email(email), parse_role(role)
    if not name.strip():
        raise InvalidInput("이름을 입력하세요 (name is empty)", field="name")
    if session.exec(select(StaffUser).where(StaffUser.email == email)).first() is not None:
        raise Conflict(f"{email} 계정이 이미 있습니다 (account exists)", field="email")
    org = None
    if role == ADMIN:
        if org_slug:
            raise InvalidInput("관리자(admin)는 모든 조직을 봅니다: --org 없이 만드세요", field="org")
    elif not org_slug:
        raise InvalidInput(f"{role} 계정에는 조직이 필요합니다 (--org SLUG)", field="org")
    else:
        org = find_org(session, org_slug)
    hashed = password_hash or passwords.hash_password(password or "")
    user = StaffUser(email=email, name=name.strip(), password_hash=hashed, role=role, org_id=org.id if org else None)
    if at is not None:  # the caller's clock (a fixed or simulated one), as for every other account event
        user.created_at = at
    if org is not None and role in (HANDLER, OFFICER):
        user.contact_id = _contact_for(session, org, email=email, name=user.name, role=role, contact_id=contact_id)
    session.add(user)
    session.flush()
    audit.record(session, "staff.created", actor=actor, org_id=user.org_id, at=at,
                 details={"user_id": user.id, "email": email, "role": role, "contact_id": user.contact_id})
    return user


def _contact_for(
    session: Session, org: Organisation, *, email: str, name: str, role: str, contact_id: int | None
) -> int:
    if contact_id is not None:
        contact = session.get(ContactPerson, contact_id)
        if contact is None or contact.org_id != org.id:
            raise NotFound(f"담당자 {contact_id}이(가) 조직 {org.slug}에 없습니다", field="contact_id")
        return contact_id
    contacts = list(session.exec(select(ContactPerson).where(ContactPerson.org_id == org.id)))
    for match in ([c for c in contacts if (c.email or "").lower() == email and c.role == role],
                  [c for c in contacts if c.name == name and c.role == role]):
        if len(match) == 1 and match[0].id is not None:
            return match[0].id
    contact = ContactPerson(org_id=org.id or 0, role=role, name=name, email=email, active=True)
    session.add(contact)
    session.flush()
    return contact.id or 0


def set_password(
    session: Session, user: StaffUser, password: str, *, actor: str, generated: bool = False,
    at: datetime | None = None,
) -> None:
    """A new password (which also lifts a lock and, through the session fingerprint, ends every session)."""
    user.password_hash = passwords.hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    details: dict[str, object] = {"user_id": user.id}
    if generated:
        details["generated"] = True
    audit.record(session, "staff.password_set", actor=actor, org_id=user.org_id, at=at, details=details)


def generate_password() -> str:
    """A random password for an admin to hand over once (16 characters from a URL-safe alphabet, 96 bits)."""
    return secrets.token_urlsafe(12)


def is_locked(user: StaffUser, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def set_active(
    session: Session, user: StaffUser, active: bool, *, actor: str, acting_user_id: int | None,
    at: datetime | None = None,
) -> bool:
    """Deactivate or reactivate an account; returns whether anything changed. Nobody can deactivate their own
    account (an admin would lock themselves out)."""
    if user.active == active:
        return False
    if not active and user.id == acting_user_id:
        raise Conflict("자기 계정은 중지할 수 없습니다 (cannot deactivate yourself)")
    user.active = active
    session.add(user)
    audit.record(session, "staff.updated", actor=actor, org_id=user.org_id, at=at,
                 details={"user_id": user.id, "active": active})
    return True


def unlock(session: Session, user: StaffUser, *, actor: str, at: datetime | None = None) -> None:
    """Lift a sign-in lock (and forget the failures counted so far)."""
    user.locked_until, user.failed_logins = None, 0
    session.add(user)
    audit.record(session, "staff.updated", actor=actor, org_id=user.org_id, at=at,
                 details={"user_id": user.id, "unlocked": True})


def change_role(
    session: Session, user: StaffUser, role: str, *, org_slug: str | None, actor: str, acting_user_id: int | None,
    at: datetime | None = None,
) -> bool:
    """Give an account another role (and, for staff of an organisation, its organisation); returns whether
    anything changed. The same rules as creating one: an admin has no organisation, everyone else one; a
    담당자/책임자 is linked to the organisation's contact person cases are assigned to. Nobody changes their own
    role. The audit event records the role and organisation before and after."""
    role = parse_role(role)
    if user.id == acting_user_id:
        raise Conflict("자기 계정의 역할은 바꿀 수 없습니다: 다른 관리자에게 요청하세요 (cannot change your own role)")
    if role == ADMIN and org_slug:
        raise InvalidInput("관리자(admin)는 모든 조직을 봅니다: 조직 없이 지정하세요", field="org")
    if role != ADMIN and not org_slug:
        raise InvalidInput(f"{role} 계정에는 조직이 필요합니다: 조직을 고르세요", field="org")
    org = find_org(session, org_slug) if org_slug else None
    org_id = org.id if org else None
    if (user.role, user.org_id) == (role, org_id):
        return False
    before = {"role": user.role, "org_id": user.org_id}
    user.role, user.org_id = role, org_id
    user.contact_id = None
    if org is not None and role in (HANDLER, OFFICER):
        user.contact_id = _contact_for(session, org, email=user.email, name=user.name, role=role, contact_id=None)
    session.add(user)
    audit.record(session, "staff.role_changed", actor=actor, org_id=org_id, at=at,
                 details={"user_id": user.id, "before": before, "after": {"role": role, "org_id": org_id}})
    return True


@dataclass
class SignIn:
    user: StaffUser | None
    error: str | None = None  # bad_credentials | locked | inactive
    message: str = ""


def sign_in(
    session: Session, email: str, password: str, *, clock: Clock | None = None, ip: str | None = None
) -> SignIn:
    """Check an e-mail and password; count failures, lock after too many; audit success and failure. The events
    carry the configured clock's time (a simulated one in demos and tests), so they sort with everything else."""
    now = (clock or clock_from_settings()).now()
    settings = get_settings()
    address = email.replace("\x00", "").strip().lower()[:320]
    user = session.exec(select(StaffUser).where(StaffUser.email == address)).first()
    details = {"email": address, "ip": ip}
    if user is None:
        passwords.verify_password(passwords.dummy_hash(), password)
        audit.record(session, "auth.login_failed", actor=f"staff:{address}", at=now,
                     details={**details, "reason": "unknown"})
        return SignIn(None, "bad_credentials", "전자우편 주소나 비밀번호가 맞지 않습니다")
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        audit.record(session, "auth.login_failed", actor=f"staff:{address}", at=now,
                     details={**details, "reason": "locked"})
        return SignIn(None, "locked", f"로그인 실패가 많아 계정이 잠겼습니다. {minutes}분 뒤에 다시 시도하세요")
    if not passwords.verify_password(user.password_hash, password):
        user.failed_logins += 1
        reason = "bad_password"
        if user.failed_logins >= settings.login_max_failures:
            user.locked_until = now + timedelta(minutes=settings.login_lock_minutes)
            user.failed_logins = 0
            reason = "locked_now"
        session.add(user)
        audit.record(session, "auth.login_failed", actor=f"staff:{address}", at=now,
                     details={**details, "reason": reason, "user_id": user.id})
        if reason == "locked_now":
            return SignIn(None, "locked", f"로그인 실패가 {settings.login_max_failures}번 이어져 계정을 "
                                          f"{settings.login_lock_minutes}분 동안 잠갔습니다")
        return SignIn(None, "bad_credentials", "전자우편 주소나 비밀번호가 맞지 않습니다")
    if not user.active:
        audit.record(session, "auth.login_failed", actor=f"staff:{address}", at=now,
                     details={**details, "reason": "inactive", "user_id": user.id})
        return SignIn(None, "inactive", "사용이 중지된 계정입니다: 관리자에게 문의하세요")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    session.add(user)
    audit.record(session, "auth.login", actor=f"staff:{address}", at=now, details={**details, "user_id": user.id})
    return SignIn(user)


def user_principal(user: StaffUser, *, via_token: ApiToken | None = None) -> Principal:
    return Principal(
        kind="token" if via_token else "user", id=(via_token.id if via_token else user.id) or 0, name=user.name,
        role=user.role, org_id=user.org_id, email=user.email, contact_id=user.contact_id, user_id=user.id,
    )


def active_user(session: Session, user_id: int, now: datetime) -> StaffUser | None:
    user = session.get(StaffUser, user_id)
    if user is None or not user.active or (user.locked_until is not None and user.locked_until > now):
        return None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, *, name: str, actor: str, role: str | None = None, org_slug: str | None = None,
    user: StaffUser | None = None, at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token; returns the row and the token itself (shown once, never stored)."""
    if not name.strip():
        raise InvalidInput("토큰 이름을 입력하세요 (name is empty)", field="name")
    if user is not None:
        role, org_id = user.role, user.org_id
    else:
        role = parse_role(role or "")
        if role == ADMIN and org_slug:
            raise InvalidInput("admin 토큰은 조직 없이 만듭니다", field="org")
        if role != ADMIN and not org_slug:
            raise InvalidInput(f"{role} 토큰에는 조직이 필요합니다", field="org")
        org_id = find_org(session, org_slug).id if org_slug else None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name.strip(), token_hash=_token_hash(token), prefix=token[:12], role=role, org_id=org_id,
                   user_id=user.id if user else None, created_by=actor)
    if at is not None:
        row.created_at = at
    session.add(row)
    session.flush()
    audit.record(session, "token.created", actor=actor, org_id=org_id, at=at,
                 details={"token_id": row.id, "name": row.name, "role": role, "user_id": row.user_id})
    return row, token


def token_principal(session: Session, token: str, now: datetime) -> Principal | None:
    """The principal a bearer token acts as, or None for an unknown, revoked or orphaned token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_EVERY:
        row.last_used_at = now
        session.add(row)
    if row.user_id is not None:
        user = active_user(session, row.user_id, now)
        return user_principal(user, via_token=row) if user else None
    return Principal(kind="token", id=row.id or 0, name=row.name, role=row.role, org_id=row.org_id)
