"""Who may see and do what.

    role     sees                          acts on cases                     approves   audit export  accounts
    담당자   its organisation's cases      the cases assigned to them        -          -             -
    책임자   its organisation's cases      every case of the organisation    yes        yes           -
    감사     its organisation's cases      - (read-only)                     -          yes           -
    admin    every organisation            - (assigns cases)                 -          yes           yes

A case of another organisation is reported as not found, never as forbidden, so that its existence does not
leak. Domain code raises `Forbidden` / `Unauthenticated` (DsarError codes); the API maps them to 403 / 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsar.errors import DsarError, InvalidInput, NotFound

HANDLER, OFFICER, AUDITOR, ADMIN = "담당자", "책임자", "감사", "admin"
ROLES: tuple[str, ...] = (HANDLER, OFFICER, AUDITOR, ADMIN)
_ALIASES = {"handler": HANDLER, "officer": OFFICER, "auditor": AUDITOR, "admin": ADMIN, "관리자": ADMIN}
ROLE_LABELS = {HANDLER: "담당자", OFFICER: "개인정보 보호책임자", AUDITOR: "감사", ADMIN: "관리자"}


class Forbidden(DsarError):
    code = "forbidden"


class Unauthenticated(DsarError):
    code = "unauthenticated"


def parse_role(value: str) -> str:
    """A role by its Korean name or English alias (handler, officer, auditor, admin)."""
    role = _ALIASES.get(value.strip().lower(), value.strip())
    if role not in ROLES:
        raise InvalidInput(f"알 수 없는 역할 '{value}': {', '.join(ROLES)} 중 하나를 쓰세요", field="role")
    return role


@dataclass(frozen=True)
class Principal:
    """The signed-in staff member or the API token a request acts as."""

    kind: Literal["user", "token"]
    id: int
    name: str
    role: str
    org_id: int | None
    email: str | None = None
    contact_id: int | None = None
    user_id: int | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"staff:{self.email}" if self.email else f"token:{self.name}"

    @property
    def approval(self) -> str:
        """The identity recorded as the officer's approval of a refusal, extension or notice."""
        return f"{self.name} <{self.email}>" if self.email else self.name

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    def sees_org(self, org_id: int | None) -> bool:
        return self.is_admin or (org_id is not None and org_id == self.org_id)


def require_visible(principal: Principal, org_id: int | None, what: str) -> None:
    """Another organisation's record is simply "not found" (404), so its existence does not leak."""
    if not principal.sees_org(org_id):
        raise NotFound(f"{what}을(를) 찾을 수 없습니다 (not found)")


def require_case_worker(principal: Principal, *, org_id: int | None, assignee_id: int | None) -> None:
    """Changing a case: its organisation's officer, or the handler it is assigned to."""
    require_visible(principal, org_id, "사건")
    if principal.role == OFFICER:
        return
    if principal.role == HANDLER:
        if assignee_id is not None and assignee_id == principal.contact_id:
            return
        raise Forbidden("이 사건은 본인에게 배정되지 않았습니다: 책임자에게 배정을 요청하세요 (not assigned to you)")
    raise Forbidden(f"{ROLE_LABELS[principal.role]} 역할은 사건을 처리할 수 없습니다 (read-only role)")


def require_officer(principal: Principal, what: str) -> None:
    if principal.role != OFFICER:
        raise Forbidden(f"{what}은(는) 개인정보 보호책임자만 할 수 있습니다 (officer only)")


def require_assigner(principal: Principal) -> None:
    if principal.role not in (OFFICER, ADMIN):
        raise Forbidden("사건 배정은 책임자나 관리자만 바꿀 수 있습니다 (officer or admin only)")


def require_audit_export(principal: Principal) -> None:
    if principal.role not in (AUDITOR, OFFICER, ADMIN):
        raise Forbidden("감사 기록 내보내기는 감사·책임자·관리자만 할 수 있습니다 (auditor, officer or admin only)")


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("관리자만 할 수 있습니다 (admin only)")
