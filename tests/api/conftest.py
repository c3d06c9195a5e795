"""A small world for the API and console tests: two organisations, one account of every role, cases.

testorg (the hand-written test organisation) and otherorg (the same definition under another name) each have
cases; every account gets a bearer token. Time is fixed: the app runs on `NOW` (Wednesday 2026-11-25, 10:00
KST), so due dates and D-day badges are exact.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One argon2 hash of PASSWORD for every test account (hashing is deliberately slow)."""
    from dsar.auth.passwords import hash_password

    return hash_password(PASSWORD)


@dataclass
class World:
    org_id: int
    other_org_id: int
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # key → {id, email, token, contact_id}
    cases: dict[str, str] = field(default_factory=dict)  # key → case number

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.users[who]['token']}"}


ACCOUNTS = {
    # key: (email, name, role, org)
    "admin": ("admin@dsar.test", "관리자", "admin", None),
    "officer": ("officer@testorg.example", "김보호", "책임자", "testorg"),
    "handler": ("desk@testorg.example", "이담당", "담당자", "testorg"),
    "handler2": ("second@testorg.example", "박보조", "담당자", "testorg"),
    "auditor": ("audit@testorg.example", "최감사", "감사", "testorg"),
    "other_officer": ("officer@otherorg.example", "정다른", "책임자", "otherorg"),
    "other_handler": ("desk@otherorg.example", "한다른", "담당자", "otherorg"),
}


def register_other_org() -> int:
    from dsar.db import session_scope
    from dsar.workflow.definitions import load_bases, load_organisation
    from dsar.workflow.registry import register

    path = ROOT / "tests" / "data" / "workflows" / "testorg.yaml"
    text = (path.read_text(encoding="utf-8").replace("testorg", "otherorg").replace("테스트주식회사", "다른주식회사")
            .replace("김보호", "정다른").replace("이담당", "한다른"))
    resolved = load_organisation(path.with_name("otherorg.yaml"), load_bases(), text=text)
    with session_scope() as session:
        return register(session, resolved).org.id or 0


def open_case(org_id: int, *, right: str = "열람", received: datetime, assignee_email: str | None = None,
              email: str | None = "minji@example.com", name: str = "김민지", details: str = "") -> str:
    from sqlmodel import select

    from dsar import engine
    from dsar.clock import FixedClock
    from dsar.db import session_scope
    from dsar.models import ContactPerson, Organisation

    with session_scope() as s:
        org = s.get(Organisation, org_id)
        fields: dict[str, Any] = {}
        if assignee_email:
            person = s.exec(select(ContactPerson).where(ContactPerson.org_id == org_id,
                                                        ContactPerson.email == assignee_email)).first()
            assert person is not None, assignee_email
            fields["assignee_id"] = person.id
        case = engine.open_case(
            s, org=org, right=right, received_at=received, actor="test", clock=FixedClock(received),
            requester_email=email, requester_name=name, subject=f"{right} 요청드립니다",
            details=details or f"제 개인정보 {right}을 요청합니다. 주민등록번호 900101-1234567",
            classification={"evidence": {right: [f"{right}을 요청"]}, "language": "ko"}, **fields,
        )
        return case.number or ""


@pytest.fixture
def world(testorg: int, password_hash: str) -> World:
    from dsar.auth import accounts
    from dsar.db import session_scope

    other = register_other_org()
    w = World(org_id=testorg, other_org_id=other)
    with session_scope() as s:
        for key, (email, name, role, org) in ACCOUNTS.items():
            user = accounts.create_user(s, email=email, name=name, role=role, password_hash=password_hash,
                                        org_slug=org, actor="test")
            _, token = accounts.create_token(s, name=f"{key}-token", actor="test", user=user)
            w.users[key] = {"id": user.id, "email": email, "token": token, "contact_id": user.contact_id,
                            "name": name}
    w.cases["mine"] = open_case(testorg, received=datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
                                assignee_email="desk@testorg.example")  # due 12-03: D-8
    w.cases["overdue"] = open_case(testorg, right="삭제", received=datetime(2026, 11, 5, 1, 0, tzinfo=UTC),
                                   assignee_email="desk@testorg.example")  # due 11-16: overdue
    w.cases["theirs"] = open_case(testorg, right="정정", received=datetime(2026, 11, 20, 1, 0, tzinfo=UTC),
                                  assignee_email="second@testorg.example")
    w.cases["other"] = open_case(other, received=datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
                                 assignee_email="desk@otherorg.example", name="이타사", email="other@example.com")
    return w


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve the app with uvicorn on a free loopback port in this process (it shares the test's database and
    settings); yields the base URL."""
    import uvicorn

    from tests.conftest import free_port

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           ws="none"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def base_url(world: World) -> Iterator[str]:
    from dsar.api.app import create_app
    from dsar.clock import FixedClock

    with serve(create_app(clock=FixedClock(NOW))) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        yield http


def advance(number: str, *steps: str, actor: str = "test") -> None:
    """Move a case directly through the engine (setting up a state, not the thing under test)."""
    from sqlmodel import select

    from dsar import engine
    from dsar.clock import FixedClock
    from dsar.db import session_scope
    from dsar.models import Request

    for step in steps:
        with session_scope() as s:
            case = s.exec(select(Request).where(Request.number == number)).one()
            engine.advance(s, case, step, actor=actor, clock=FixedClock(NOW))
