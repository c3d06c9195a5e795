"""`dsar users add|list|token|unlock`: staff accounts of the console and API tokens of machine clients.

The first admin is made here (`dsar users add --role admin`); after that an admin may also use the API.
"""

from __future__ import annotations

import sys

import typer
from sqlmodel import col, select

from dsar.auth import accounts
from dsar.auth.models import StaffUser
from dsar.auth.roles import ROLES
from dsar.cli import emit
from dsar.clock import clock_from_settings
from dsar.db import session_scope, upgrade
from dsar.errors import InvalidInput, NotFound
from dsar.models import Organisation

users = typer.Typer(help="직원 계정과 API 토큰 (staff accounts, API tokens)", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InvalidInput("표준 입력에서 비밀번호를 읽지 못했습니다 (empty password on stdin)", field="password")
        return password
    return str(typer.prompt("비밀번호", hide_input=True, confirmation_prompt="비밀번호 확인"))


@users.command("add")
def add_cmd(
    email: str = typer.Option(..., "--email", help="Sign-in e-mail address"),
    name: str = typer.Option(..., "--name", help="The person's name"),
    role: str = typer.Option(..., "--role", help=f"{', '.join(ROLES)} (or handler, officer, auditor)"),
    org: str = typer.Option(None, "--org", help="Organisation slug (not for admin)"),
    contact_id: int = typer.Option(None, "--contact-id", help="Link to this ContactPerson (cases assigned to it)"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a staff account (the first one: --role admin)."""
    password = _password(password_stdin)
    upgrade()
    with session_scope() as session:
        user = accounts.create_user(session, email=email, name=name, role=role, password=password, org_slug=org,
                                    contact_id=contact_id, actor="cli", at=clock_from_settings().now())
        data = {"id": user.id, "email": user.email, "name": user.name, "role": user.role, "org": org,
                "contact_id": user.contact_id}
    emit(data, as_json, f"계정을 만들었습니다: {data['email']} ({data['role']}{', ' + org if org else ''})")


@users.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """List staff accounts."""
    upgrade()
    with session_scope() as session:
        slugs = {o.id: o.slug for o in session.exec(select(Organisation))}
        rows = [{"id": u.id, "email": u.email, "name": u.name, "role": u.role, "org": slugs.get(u.org_id),
                 "active": u.active, "locked_until": u.locked_until.isoformat() if u.locked_until else None}
                for u in session.exec(select(StaffUser).order_by(col(StaffUser.id)))]
    human = "\n".join(f"{r['id']:>4}  {r['email']}  {r['role']}  {r['org'] or '-'}{'' if r['active'] else '  (중지)'}"
                      for r in rows) or "계정이 없습니다"
    emit(rows, as_json, human)


@users.command("token")
def token_cmd(
    name: str = typer.Argument(..., help="What the token is for, e.g. 'ticket-sync'"),
    user: str = typer.Option(None, "--user", help="Act as this staff account (e-mail)"),
    role: str = typer.Option(None, "--role", help="Or: a machine token with this role"),
    org: str = typer.Option(None, "--org", help="... of this organisation (not for admin)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create an API token; it is printed once and only its hash is kept."""
    upgrade()
    with session_scope() as session:
        account = None
        if user:
            account = session.exec(select(StaffUser).where(StaffUser.email == user.strip().lower())).first()
            if account is None:
                raise NotFound(f"계정 {user}이(가) 없습니다: dsar users list로 확인하세요", field="user")
        row, token = accounts.create_token(session, name=name, actor="cli", role=role, org_slug=org, user=account,
                                           at=clock_from_settings().now())
        data = {"id": row.id, "name": row.name, "role": row.role, "token": token}
    emit(data, as_json, f"{token}\n(이 토큰은 다시 보여 주지 않습니다: Authorization: Bearer 헤더로 보내세요)")


@users.command("unlock")
def unlock_cmd(email: str = typer.Argument(...), as_json: bool = typer.Option(False, "--json")) -> None:
    """Lift the sign-in lock of an account."""
    upgrade()
    with session_scope() as session:
        account = session.exec(select(StaffUser).where(StaffUser.email == email.strip().lower())).first()
        if account is None:
            raise NotFound(f"계정 {email}이(가) 없습니다", field="email")
        accounts.unlock(session, account, actor="cli")
    emit({"email": email, "unlocked": True}, as_json, f"{email} 계정의 잠금을 풀었습니다")


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")
