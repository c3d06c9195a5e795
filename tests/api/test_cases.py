"""The case API: the queue with its filters and pages, one case, transitions, assignment and notes."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlmodel import col, select

from tests.api.conftest import World, advance, open_case


def audit_actions(number: str) -> list[tuple[str, str]]:
    from dsar.db import session_scope
    from dsar.models import AuditEvent, Request

    with session_scope() as s:
        case = s.exec(select(Request).where(Request.number == number)).one()
        return [(e.action, e.actor) for e in s.exec(select(AuditEvent).where(AuditEvent.request_id == case.id)
                                                    .order_by(col(AuditEvent.id)))]


def test_queue_is_sorted_by_due_date_and_paged(client: httpx.Client, world: World) -> None:
    officer = world.auth("officer")
    page = client.get("/api/cases", headers=officer).json()
    assert [c["number"] for c in page["items"]] == [world.cases[k] for k in ("overdue", "theirs", "mine")]
    assert [c["days_left"] for c in page["items"]] == [-9, 5, 8]
    assert [c["overdue"] for c in page["items"]] == [True, False, False]
    assert page["total"] == 3 and page["limit"] == 50 and page["offset"] == 0
    assert all("requester" not in c and "김민지" not in str(c) for c in page["items"])  # no personal data in lists
    second = client.get("/api/cases?limit=1&offset=1", headers=officer).json()
    assert [c["number"] for c in second["items"]] == [world.cases["theirs"]]
    assert (second["total"], second["limit"], second["offset"]) == (3, 1, 1)


def test_queue_filters(client: httpx.Client, world: World) -> None:
    officer = world.auth("officer")

    def numbers(query: str, who: dict[str, str] = officer) -> list[str]:
        response = client.get("/api/cases?" + query, headers=who)
        assert response.status_code == 200, response.text
        return [c["number"] for c in response.json()["items"]]

    c = world.cases
    assert numbers("right=삭제") == [c["overdue"]]
    assert numbers("overdue=true") == [c["overdue"]]
    assert numbers("due_before=2026-12-01") == [c["overdue"], c["theirs"]]
    assert numbers(f"assignee={world.users['handler2']['contact_id']}") == [c["theirs"]]
    assert numbers("assignee=me", world.auth("handler")) == [c["overdue"], c["mine"]]
    assert numbers("assignee=none") == []
    assert numbers("org=testorg&stage=received") == [c["overdue"], c["theirs"], c["mine"]]
    advance(c["mine"], "start_verification")
    assert numbers("stage=verifying") == [c["mine"]]
    assert numbers("closed=true") == [] and len(numbers("closed=false")) == 3
    bad = client.get("/api/cases?right=nonsense", headers=officer)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    assert client.get("/api/cases?limit=0", headers=officer).status_code == 422


def test_unrouted_and_quarantined_lists_are_for_admins(client: httpx.Client, world: World) -> None:
    from dsar import engine
    from dsar.clock import FixedClock
    from dsar.db import session_scope
    from dsar.intake import service

    received = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    with session_scope() as s:
        unrouted = engine.open_case(s, org=None, right="열람", received_at=received, actor="test",
                                    clock=FixedClock(received)).number
        service.store(s, b"\x00\x01 not a mail at all", source="webhook", clock=FixedClock(received))
    from dsar.models import InboundMessage

    with session_scope() as s:
        inbound = s.exec(select(InboundMessage)).one()
        service.process(s, inbound.id, clock=FixedClock(received))
    admin = client.get("/api/cases?unrouted=true", headers=world.auth("admin")).json()
    assert [c["number"] for c in admin["items"]] == [unrouted] and admin["items"][0]["stage_label"] == "미배정"
    assert client.get("/api/cases?unrouted=true", headers=world.auth("officer")).json()["items"] == []
    with session_scope() as s:  # a reason quoting an attachment's name, which holds a 주민등록번호
        s.add(InboundMessage(received_at=received, source="webhook", sha256="0" * 64, raw=b"x", status="quarantined",
                             problem_code="attachment_too_large",
                             problem_message="첨부파일 '신분증 900101-1234567.pdf'이(가) 한도를 넘습니다"))
    q = client.get("/api/cases?quarantined=true", headers=world.auth("admin")).json()
    assert q["total"] == 2 and q["items"][0]["code"]
    assert "1234567" not in q["items"][1]["reason"] and "신분증 900101-1******.pdf" in q["items"][1]["reason"]
    assert client.get("/api/cases?quarantined=true", headers=world.auth("officer")).status_code == 403


def test_case_detail_masks_the_message_shows_the_arithmetic_and_is_audited(
    client: httpx.Client, world: World
) -> None:
    number = world.cases["mine"]
    case = client.get(f"/api/cases/{number}", headers=world.auth("auditor")).json()
    assert case["requester"] == {"name": "김민지", "email": "minji@example.com", "phone": None}
    assert "900101-1******" in case["message"]["text"] and "1234567" not in case["message"]["text"]
    assert case["classification"]["evidence"] == {"열람": ["열람을 요청"]}
    assert case["due_date"] == "2026-12-03" and case["days_left"] == 8
    assert any("민법 제157조" in line for line in case["due_basis"]["basis"])
    assert case["due_basis"]["basis"][-1].startswith("기한: 2026년 12월 3일(목)")
    assert [a["name"] for a in case["allowed"]] == ["start_verification"]
    assert case["allowed"][0]["permitted"] is False  # the auditor reads only
    assert {g["code"] for g in case["refusal_grounds"]} >= {"law_restricts", "harm_to_others"}
    assert [t["action"] for t in case["timeline"]][:2] == ["request.opened", "notice.rendered"]
    assert audit_actions(number)[-1] == ("request.viewed", "staff:audit@testorg.example")


def test_handler_works_an_assigned_case_through_verification(client: httpx.Client, world: World) -> None:
    number, handler = world.cases["mine"], world.auth("handler")
    version = client.get(f"/api/cases/{number}", headers=handler).json()["row_version"]
    moved = client.post(f"/api/cases/{number}/transitions", headers=handler,
                        json={"name": "start_verification", "expected_version": version})
    assert moved.status_code == 200 and moved.json()["case"]["stage"] == "verifying"
    assert moved.json()["case"]["stage_label"] == "본인확인"
    stale = client.post(f"/api/cases/{number}/transitions", headers=handler,
                        json={"name": "verify", "expected_version": version})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    wrong = client.post(f"/api/cases/{number}/transitions", headers=handler, json={"name": "close"})
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "transition_not_allowed"
    assert "verify(본인확인 완료)" in wrong.json()["error"]["message"]  # says what can be done instead
    detail = client.get(f"/api/cases/{number}", headers=handler).json()
    stages = [t for t in detail["timeline"] if t["kind"] == "stage"]
    assert [(t["details"]["from"], t["details"]["to"], t["actor"]) for t in stages] == [
        ("received", "verifying", "staff:desk@testorg.example")]
    assert stages[0]["details"]["audit_hash"]


def test_handler_cannot_act_on_a_case_assigned_to_someone_else(client: httpx.Client, world: World) -> None:
    number = world.cases["theirs"]
    refused = client.post(f"/api/cases/{number}/transitions", headers=world.auth("handler"),
                          json={"name": "start_verification"})
    assert refused.status_code == 403 and "배정" in refused.json()["error"]["message"]
    assert client.get(f"/api/cases/{number}", headers=world.auth("handler")).status_code == 200  # may look


def test_only_the_officer_refuses_and_the_approval_is_the_officers_identity(
    client: httpx.Client, world: World
) -> None:
    number = world.cases["overdue"]  # 삭제, assigned to the handler
    advance(number, "start_verification", "verify")
    body = {"name": "refuse", "reason": "전자상거래법에 따라 5년간 보존해야 합니다", "ground": "retention_required"}
    by_handler = client.post(f"/api/cases/{number}/transitions", headers=world.auth("handler"), json=body)
    assert by_handler.status_code == 403 and "책임자" in by_handler.json()["error"]["message"]
    no_ground = client.post(f"/api/cases/{number}/transitions", headers=world.auth("officer"),
                            json={**body, "ground": None})
    assert no_ground.status_code == 422 and no_ground.json()["error"]["code"] == "guard_failed"
    done = client.post(f"/api/cases/{number}/transitions", headers=world.auth("officer"), json=body)
    assert done.status_code == 200, done.text
    notice = done.json()["notices"][0]
    assert notice["kind"] == "rectify_erase_result" and notice["approved_by"] == "김보호 <officer@testorg.example>"
    from dsar.db import session_scope
    from dsar.models import StageEvent

    with session_scope() as s:
        last = s.exec(select(StageEvent).order_by(col(StageEvent.id).desc())).first()
        assert last is not None and (last.ground, last.actor) == ("retention_required", "staff:officer@testorg.example")


def test_a_handlers_postponement_waits_as_a_draft_for_the_officer(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]
    advance(number, "start_verification", "verify")
    made = client.post(f"/api/cases/{number}/transitions", headers=world.auth("handler"),
                       json={"name": "postpone", "reason": "다른 사람의 정보와 섞여 있어 분리하는 중입니다"})
    assert made.status_code == 200
    assert [(n["kind"], n["status"]) for n in made.json()["notices"]] == [("access_postpone_refusal", "draft")]


def test_reassign_by_the_officer_tells_the_new_assignee(
    client: httpx.Client, world: World, smtp_server: object
) -> None:
    number, target = world.cases["mine"], world.users["handler2"]["contact_id"]
    moved = client.put(f"/api/cases/{number}/assignee", headers=world.auth("officer"), json={"assignee_id": target})
    assert moved.status_code == 200 and moved.json()["assignee_id"] == target
    mail = smtp_server.wait_for(1)  # type: ignore[attr-defined]
    assert mail and mail[0]["To"] == "second@testorg.example" and number in str(mail[0]["Subject"])
    assert ("request.reassigned", "staff:officer@testorg.example") in audit_actions(number)
    # Now handler2 may act and the first handler may not.
    assert client.post(f"/api/cases/{number}/transitions", headers=world.auth("handler"),
                       json={"name": "start_verification"}).status_code == 403
    assert client.post(f"/api/cases/{number}/transitions", headers=world.auth("handler2"),
                       json={"name": "start_verification"}).status_code == 200
    other_org_contact = client.get("/api/organisations/otherorg", headers=world.auth("admin")).json()["contacts"][0]
    foreign = client.put(f"/api/cases/{number}/assignee", headers=world.auth("admin"),
                         json={"assignee_id": other_org_contact["id"]})
    assert foreign.status_code == 404


def test_notes_are_listed_in_order_with_their_author(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]
    for body in ("신분증 사본 요청함", "회신 대기"):
        assert client.post(f"/api/cases/{number}/notes", headers=world.auth("handler"),
                           json={"body": body}).status_code == 201
    assert client.post(f"/api/cases/{number}/notes", headers=world.auth("officer"),
                       json={"body": "확인"}).status_code == 201
    page = client.get(f"/api/cases/{number}/notes?limit=2", headers=world.auth("auditor")).json()
    assert [n["body"] for n in page["items"]] == ["신분증 사본 요청함", "회신 대기"] and page["total"] == 3
    assert page["items"][0]["author"] == "staff:desk@testorg.example"
    empty = client.post(f"/api/cases/{number}/notes", headers=world.auth("handler"), json={"body": ""})
    assert empty.status_code == 422


def test_closed_cases_offer_no_actions(client: httpx.Client, world: World) -> None:
    other = open_case(world.org_id, received=datetime(2026, 11, 24, 1, 0, tzinfo=UTC), email=None,
                      assignee_email="desk@testorg.example")
    advance(other, "start_verification", "verify", "approve")
    from dsar.db import session_scope
    from dsar.models import Notice, Request

    with session_scope() as s:
        case = s.exec(select(Request).where(Request.number == other)).one()
        for n in s.exec(select(Notice).where(Notice.request_id == case.id)):
            assert n.status == "manual"  # no e-mail address: staff post it
    notice_id = client.get(f"/api/cases/{other}/notices", headers=world.auth("handler")).json()["items"][0]["id"]
    posted = client.post(f"/api/cases/{other}/notices/{notice_id}/send", headers=world.auth("handler"))
    assert posted.status_code == 200 and posted.json()["status"] == "sent"
    closed = client.post(f"/api/cases/{other}/transitions", headers=world.auth("handler"), json={"name": "close"})
    assert closed.status_code == 200 and closed.json()["case"]["closed"] is True
    detail = client.get(f"/api/cases/{other}", headers=world.auth("handler")).json()
    assert detail["allowed"] == [] and detail["due_date"] == "2026-12-04"
    assert client.put(f"/api/cases/{other}/assignee", headers=world.auth("officer"),
                      json={"assignee_id": world.users["handler2"]["contact_id"]}).status_code == 409
