"""Every new case gets an assignee: the least-loaded active 담당자, else the 책임자; staff can reassign, audited."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from dsar import audit, engine
from dsar.clock import FixedClock
from dsar.db import session_scope
from dsar.errors import Conflict, InvalidInput, NotFound, TransitionError
from dsar.models import ContactPerson, Notice, Organisation, Request

ROOT = Path(__file__).resolve().parent.parent
RECEIVED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 10:00 KST, Monday
OFFICER = {"role": "책임자", "name": "김보호", "title": "이사", "department": "경영지원실", "phone": "02-1234-5678",
           "email": "officer@variant.example"}


def handler(name: str, email: str | None) -> dict[str, Any]:
    return {"role": "담당자", "name": name, "title": None, "department": "정보보호팀", "phone": None, "email": email}


def register_variant(slug: str, *, contacts: list[dict[str, Any]] | None = None,
                     verification: list[str] | None = None) -> int:
    """The test organisation under another slug, with other contact people or verification steps."""
    from dsar.workflow.definitions import load_bases, load_organisation
    from dsar.workflow.registry import register

    resolved = copy.deepcopy(load_organisation(ROOT / "tests" / "data" / "workflows" / "testorg.yaml", load_bases()))
    resolved["organisation"] = {**resolved["organisation"], "slug": slug, "name": f"{slug} 주식회사"}
    resolved.pop("routing", None)
    if contacts is not None:
        resolved["contacts"] = contacts
        resolved["settings"] = {k: v for k, v in resolved["settings"].items() if k != "officer_email"}
    if verification is not None:
        resolved["verification"] = verification
    with session_scope() as s:
        return register(s, resolved).org.id or 0


def open_case(org_id: int, *, clock: FixedClock | None = None, **fields: Any) -> int:
    clock = clock or FixedClock(RECEIVED)
    fields.setdefault("requester_email", "minji@example.com")
    with session_scope() as s:
        case = engine.open_case(s, org=s.get(Organisation, org_id), right=fields.pop("right", "열람"),
                                received_at=clock.now(), actor="test", clock=clock, **fields)
        return case.id or 0


def contact_id(org_id: int, name: str) -> int:
    with session_scope() as s:
        return s.exec(select(ContactPerson.id).where(ContactPerson.org_id == org_id, ContactPerson.name == name)).one()


def assignee_of(case_id: int) -> int | None:
    with session_scope() as s:
        return s.get(Request, case_id).assignee_id  # type: ignore[union-attr]


def test_new_cases_are_dealt_to_the_least_loaded_handler_in_turn(db: str) -> None:
    org = register_variant("two-desks", contacts=[OFFICER, handler("가담당", "a@variant.example"),
                                                   handler("나담당", "b@variant.example")])
    a, b = contact_id(org, "가담당"), contact_id(org, "나담당")
    cases = [open_case(org) for _ in range(4)]
    assert [assignee_of(c) for c in cases] == [a, b, a, b]
    with session_scope() as s:  # 가담당 finishes one: the next case is theirs (1 open against 2)
        case = s.get(Request, cases[0])
        assert case is not None
        case.closed = True
        s.add(case)
    assert assignee_of(open_case(org)) == a


def test_the_opened_event_names_the_assignee(testorg: int) -> None:
    case_id = open_case(testorg)
    desk = contact_id(testorg, "이담당")
    assert assignee_of(case_id) == desk
    with session_scope() as s:
        opened = audit.events_for(s, case_id)[0]
    assert opened.action == "request.opened" and opened.details["assignee_id"] == desk


def test_without_an_active_handler_the_officer_gets_the_case(db: str) -> None:
    org = register_variant("officer-only", contacts=[OFFICER])
    assert assignee_of(open_case(org)) == contact_id(org, "김보호")
    # A handler the re-imported policy no longer names is inactive and gets nothing new.
    gone = register_variant("left", contacts=[OFFICER, handler("퇴사자", "gone@variant.example")])
    register_variant("left", contacts=[OFFICER])
    assert assignee_of(open_case(gone)) == contact_id(gone, "김보호")


def test_an_unrouted_case_has_no_assignee(db: str) -> None:
    with session_scope() as s:
        case = engine.open_case(s, org=None, right="열람", received_at=RECEIVED, actor="test",
                                clock=FixedClock(RECEIVED))
        assert case.assignee_id is None


def test_reassigning_records_who_from_whom_and_tells_the_new_assignee(db: str) -> None:
    org = register_variant("reassign", contacts=[OFFICER, handler("가담당", "a@variant.example"),
                                                 handler("나담당", "b@variant.example")])
    case_id = open_case(org)
    a, b = contact_id(org, "가담당"), contact_id(org, "나담당")
    assert assignee_of(case_id) == a
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None
        engine.reassign(s, case, b, actor="officer-kim", clock=FixedClock(RECEIVED))
    assert assignee_of(case_id) == b
    with session_scope() as s:
        event = audit.events_for(s, case_id)[-2]  # the assignment e-mail's notice.rendered comes last
        mail = s.exec(select(Notice).where(Notice.request_id == case_id, Notice.kind == "assignment")).one()
    assert event.action == "request.reassigned" and event.actor == "officer-kim"
    assert event.details == {"from": a, "to": b, "role": "담당자"}
    assert mail.recipient == "b@variant.example" and mail.status == "queued" and "나담당 님" in mail.text
    with session_scope() as s:
        assert audit.verify(s).ok


def test_reassigning_refuses_strangers_leavers_closed_cases_and_stale_pages(db: str) -> None:
    org = register_variant("strict", contacts=[OFFICER, handler("가담당", "a@variant.example"),
                                               handler("나담당", "b@variant.example")])
    other = register_variant("elsewhere", contacts=[OFFICER, handler("남의담당", "x@elsewhere.example")])
    case_id = open_case(org)
    b = contact_id(org, "나담당")
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None
        with pytest.raises(NotFound):
            engine.reassign(s, case, contact_id(other, "남의담당"), actor="staff")
        with pytest.raises(Conflict):
            engine.reassign(s, case, b, actor="staff", expected_version=case.row_version + 1)
    register_variant("strict", contacts=[OFFICER, handler("가담당", "a@variant.example")])  # 나담당 leaves
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None
        with pytest.raises(InvalidInput, match="처리방침에 없는"):
            engine.reassign(s, case, b, actor="staff")
        case.closed = True
        s.add(case)
    with session_scope() as s:
        case = s.get(Request, case_id)
        assert case is not None
        with pytest.raises(TransitionError, match="종결"):
            engine.reassign(s, case, contact_id(org, "김보호"), actor="staff")
        assert [e.action for e in audit.events_for(s, case_id)] == ["request.opened", "notice.rendered"]
