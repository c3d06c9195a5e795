"""Correcting intake's classification: a not-a-request message opens the cases staff choose (clock from its
receipt), a case's right is corrected only at its first stage (due date recomputed), the agent kind; each one
audited with before and after and no personal data, refused with a clear Korean message when not allowed."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import col, select

from tests.api.conftest import World, advance
from tests.api.test_attachments import ingest, request_mail
from tests.api.test_auth import csrf_of, events, sign_in

SPAM = "안녕하세요. 귀사 제품 가격이 궁금해 문의드립니다. 견적서를 보내 주실 수 있을까요? 주민등록번호 900101-1234567"


def corrected_events() -> list[dict]:
    from dsar.db import session_scope
    from dsar.models import AuditEvent

    with session_scope() as s:
        return [{"actor": e.actor, "details": e.details, "request_id": e.request_id, "org_id": e.org_id}
                for e in s.exec(select(AuditEvent).where(AuditEvent.action == "request.corrected")
                                .order_by(col(AuditEvent.id)))]


def no_personal_data(events: list[dict]) -> bool:
    text = str([e["details"] for e in events])
    return not any(p in text for p in ("minji", "김민지", "900101", "example.com"))


@pytest.fixture
def held(world: World) -> int:
    """A real request that intake filed as not a request (sent on Friday 2026-11-20, read on the 25th)."""
    inbound_id, cases = ingest(request_mail(subject="문의", body=SPAM, date="Fri, 20 Nov 2026 09:00:00 +0900"))
    assert cases == []
    return inbound_id


def test_admin_lists_and_reads_not_a_request_messages_others_may_not(
    client: httpx.Client, world: World, held: int
) -> None:
    page = client.get("/api/messages", headers=world.auth("admin")).json()
    assert [m["inbound_id"] for m in page["items"]] == [held] and page["total"] == 1
    assert "minji" not in str(page) and page["items"][0]["subject"] == "문의"
    one = client.get(f"/api/messages/{held}", headers=world.auth("admin")).json()
    assert one["sender"] == "minji@example.com" and one["org"] == {"slug": "testorg", "name": "테스트주식회사"}
    assert "900101-1******" in one["text"] and "1234567" not in one["text"]
    for who in ("officer", "handler", "auditor", "other_officer"):
        assert client.get("/api/messages", headers=world.auth(who)).status_code == 403, who
        assert client.get(f"/api/messages/{held}", headers=world.auth(who)).status_code == 403, who
    assert client.get("/api/messages").status_code == 401
    from tests.api.test_auth import events

    assert [e["details"] for e in events("inbound.viewed")] == [{"inbound_id": held, "via": "token"}]


def test_opening_cases_for_a_not_a_request_message_runs_the_clock_from_its_receipt(
    client: httpx.Client, world: World, held: int
) -> None:
    body = {"rights": ["삭제", "열람"], "agent_kind": "위임"}
    for who in ("officer", "handler", "auditor"):
        assert client.post(f"/api/messages/{held}/cases", json=body, headers=world.auth(who)).status_code == 403
    made = client.post(f"/api/messages/{held}/cases", json=body, headers=world.auth("admin"))
    assert made.status_code == 201
    numbers = [c["number"] for c in made.json()["cases"]]
    assert len(numbers) == 2 and all(c["due_date"] == "2026-11-30" for c in made.json()["cases"])  # 11-20 + 10 days
    detail = client.get(f"/api/cases/{numbers[0]}", headers=world.auth("officer")).json()
    assert detail["right"] == "삭제" and detail["rights"] == ["삭제", "열람"]
    assert datetime.fromisoformat(detail["received_at"]) == datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    assert detail["agent"]["kind"] == "위임" and detail["classification"]["evidence"] == {
        "삭제": ["직원 정정"], "열람": ["직원 정정"]}
    assert detail["requester"]["email"] == "minji@example.com" and "1234567" not in detail["message"]["text"]
    notices = client.get(f"/api/cases/{numbers[0]}/notices", headers=world.auth("officer")).json()["items"]
    assert [n["kind"] for n in notices] == ["acknowledgement"]
    events = corrected_events()
    assert [e["details"]["after"]["right"] for e in events] == ["삭제", "열람"]
    assert events[0]["details"] == {"field": "not_a_request", "before": {"inbound_id": held, "status": "not_a_request"},
                                    "after": {"inbound_id": held, "status": "processed", "rights": ["삭제", "열람"],
                                              "right": "삭제"}}
    assert all(e["actor"] == "staff:admin@dsar.test" and e["org_id"] == world.org_id for e in events)
    assert no_personal_data(events)
    again = client.post(f"/api/messages/{held}/cases", json=body, headers=world.auth("admin"))
    assert again.status_code == 404 and "요구 아님" in again.json()["error"]["message"]
    assert client.get("/api/messages", headers=world.auth("admin")).json()["total"] == 0


def test_opening_cases_needs_a_known_right(client: httpx.Client, world: World, held: int) -> None:
    for body in ({"rights": []}, {"rights": ["환불"]}, {"rights": ["삭제"], "agent_kind": "친구"}):
        refused = client.post(f"/api/messages/{held}/cases", json=body, headers=world.auth("admin"))
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_input", body
    assert corrected_events() == []


def test_right_is_corrected_at_the_first_stage_and_the_due_date_recomputed(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]  # 열람, received 2026-11-23, due 12-03
    version = client.get(f"/api/cases/{number}", headers=world.auth("handler")).json()["row_version"]
    done = client.put(f"/api/cases/{number}/right", json={"right": "자동화결정", "expected_version": version},
                      headers=world.auth("handler"))
    assert done.status_code == 200
    assert done.json()["right"] == "자동화결정" and done.json()["changed"] is True
    assert done.json()["case"]["due_date"] == "2026-12-23"  # 30 days (법 37-2) from the same receipt
    detail = client.get(f"/api/cases/{number}", headers=world.auth("handler")).json()
    assert detail["rights"] == ["자동화결정"] and detail["stage"] == "received"
    assert detail["classification"]["evidence"] == {"자동화결정": ["직원 정정"]}
    assert "자동화결정" not in detail["right_choices"] and "열람" in detail["right_choices"]
    assert any(e["action"] == "request.corrected" and e["title"] == "분류 정정" for e in detail["timeline"])
    [event] = corrected_events()
    assert event["details"] == {"field": "right",
                                "before": {"right": "열람", "stage": "received", "due": "2026-12-03"},
                                "after": {"right": "자동화결정", "stage": "received", "due": "2026-12-23"}}
    assert event["actor"] == "staff:desk@testorg.example" and no_personal_data([event])
    same = client.put(f"/api/cases/{number}/right", json={"right": "자동화결정"}, headers=world.auth("handler"))
    assert same.json()["changed"] is False and len(corrected_events()) == 1


def test_right_correction_is_refused_after_the_first_stage(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]
    advance(number, "start_verification")
    assert client.get(f"/api/cases/{number}", headers=world.auth("handler")).json()["right_choices"] == []
    refused = client.put(f"/api/cases/{number}/right", json={"right": "삭제"}, headers=world.auth("handler"))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "transition_not_allowed"
    assert "첫 단계를 지나" in refused.json()["error"]["message"]
    assert corrected_events() == []


def test_right_correction_rules(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]
    cases = {"theirs": ("handler", 403), "mine": ("auditor", 403), "overdue": ("admin", 403),
             "other": ("officer", 404)}
    for key, (who, status) in cases.items():
        response = client.put(f"/api/cases/{world.cases[key]}/right", json={"right": "정정"}, headers=world.auth(who))
        assert response.status_code == status, (key, who)
    stale = client.put(f"/api/cases/{number}/right", json={"right": "정정", "expected_version": 99},
                       headers=world.auth("officer"))
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    unknown = client.put(f"/api/cases/{number}/right", json={"right": "환불"}, headers=world.auth("officer"))
    assert unknown.status_code == 422
    assert corrected_events() == []


def test_a_right_another_case_of_the_same_message_has_is_refused(client: httpx.Client, world: World) -> None:
    _, numbers = ingest(request_mail(body="제 개인정보 열람과 삭제를 요청합니다."))
    assert len(numbers) == 2
    refused = client.put(f"/api/cases/{numbers[0]}/right", json={"right": "삭제"}, headers=world.auth("officer"))
    assert refused.status_code == 409 and numbers[1] in refused.json()["error"]["message"]
    moved = client.put(f"/api/cases/{numbers[0]}/right", json={"right": "정정"}, headers=world.auth("officer"))
    assert moved.json()["rights"] == ["정정", "삭제"]
    sibling = client.get(f"/api/cases/{numbers[1]}", headers=world.auth("officer")).json()
    assert sibling["right"] == "삭제" and sibling["rights"] == ["정정", "삭제"]


def test_agent_kind_is_corrected_and_audited_until_the_case_closes(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]
    url = f"/api/cases/{number}/agent"
    assert client.put(url, json={"agent_kind": "위임"}, headers=world.auth("auditor")).status_code == 403
    assert client.put(url, json={"agent_kind": "위임"}, headers=world.auth("other_handler")).status_code == 404
    assert client.put(url, json={"agent_kind": "친구"}, headers=world.auth("handler")).status_code == 422
    first = client.put(url, json={"agent_kind": "법정대리인"}, headers=world.auth("handler")).json()
    assert first["agent_kind"] == "법정대리인" and first["changed"] is True
    back = client.put(url, json={"agent_kind": None}, headers=world.auth("handler")).json()
    assert back["agent_kind"] is None and back["right"] == "열람"
    assert [(e["details"]["before"], e["details"]["after"]) for e in corrected_events()] == [
        ({"agent_kind": None}, {"agent_kind": "법정대리인"}), ({"agent_kind": "법정대리인"}, {"agent_kind": None})]
    from dsar.db import session_scope
    from dsar.models import Request

    with session_scope() as s:
        case = s.exec(select(Request).where(Request.number == number)).one()
        case.closed = True  # the state matters here, not how it was reached
    closed = client.put(url, json={"agent_kind": "위임"}, headers=world.auth("officer"))
    assert closed.status_code == 409 and "종결" in closed.json()["error"]["message"]


def test_console_corrects_the_right_with_the_csrf_token(client: httpx.Client, world: World) -> None:
    sign_in(client, "desk@testorg.example")
    number = world.cases["mine"]
    page = client.get(f"/cases/{number}")
    assert 'data-correction="right"' in page.text and '<option value="삭제">삭제</option>' in page.text
    token = csrf_of(page)
    assert client.post(f"/cases/{number}/corrections/right", data={"right": "삭제"}).status_code == 403
    done = client.post(f"/cases/{number}/corrections/right", data={"csrf_token": token, "right": "삭제"})
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{number}#classification"
    after = client.get(done.headers["location"]).text
    assert "분류를 정정했습니다" in after and "삭제 요구" in after
    assert "요구 종류: 열람 → 삭제" in after  # the timeline line
    advance(number, "start_verification")
    page = client.get(f"/cases/{number}").text
    assert 'data-correction="right"' not in page and "첫 단계를 지난 사건이라" in page
    refused = client.post(f"/cases/{number}/corrections/right", data={"csrf_token": token, "right": "정정"})
    assert "첫 단계를 지나" in client.get(refused.headers["location"]).text
    agent = client.post(f"/cases/{number}/corrections/agent", data={"csrf_token": token, "agent_kind": "위임"})
    assert "대리인: 없음 → 위임" in client.get(agent.headers["location"]).text
    assert len(corrected_events()) == 2


def test_console_review_list_opens_cases_for_a_message(client: httpx.Client, world: World, held: int) -> None:
    sign_in(client, "officer@testorg.example")
    assert client.get("/messages").status_code == 403 and "계정" not in client.get("/queue").text
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/queue"))})
    sign_in(client, "admin@dsar.test")
    listing = client.get("/messages")
    assert f'<a href="/messages/{held}">문의</a>' in listing.text and "minji" not in listing.text
    page = client.get(f"/messages/{held}")
    assert "900101-1******" in page.text and 'name="rights" value="처리정지"' in page.text
    token = csrf_of(page)
    empty = client.post(f"/messages/{held}/cases", data={"csrf_token": token, "agent_kind": ""})
    assert "하나 이상 고르세요" in client.get(empty.headers["location"]).text
    made = client.post(f"/messages/{held}/cases", data={"csrf_token": token, "rights": "처리정지", "agent_kind": ""})
    assert made.status_code == 303 and made.headers["location"].startswith("/cases/DSAR-2026-")
    case = client.get(made.headers["location"]).text
    assert "사건을 열었습니다" in case and "처리정지 요구" in case
    assert "요구 아님 → 처리정지 요구로 사건 열기" in case
    assert "검토할 메시지가 없습니다" in client.get("/messages").text


def case_notices(client: httpx.Client, world: World, number: str) -> list[dict]:
    return client.get(f"/api/cases/{number}/notices", headers=world.auth("officer")).json()["items"]


def notice_text(client: httpx.Client, world: World, number: str, notice_id: int) -> str:
    return client.get(f"/api/cases/{number}/notices/{notice_id}/download?format=txt",
                      headers=world.auth("officer")).text


def test_a_corrected_right_sends_the_requester_a_corrected_acknowledgement(
    client: httpx.Client, world: World, smtp_server: object
) -> None:
    number = world.cases["mine"]  # 열람, acknowledged when opened, due 12-03
    [first] = case_notices(client, world, number)
    assert first["kind"] == "acknowledgement" and first["seq"] == 1 and first["status"] == "queued"  # not out yet
    done = client.put(f"/api/cases/{number}/right", json={"right": "자동화결정"}, headers=world.auth("handler")).json()
    after = case_notices(client, world, number)
    assert [(n["kind"], n["seq"]) for n in after] == [("acknowledgement", 1), ("acknowledgement", 2)]
    assert done["acknowledgement"] == after[1]["id"] and after[1]["status"] == "sent"
    assert after[0]["status"] == "void"  # the unsent one naming the wrong right never goes out
    [withdrawn] = events("notice.withdrawn")
    assert withdrawn["details"] == {"notice_ids": [first["id"]], "replaced_by": after[1]["id"]}
    text = notice_text(client, world, number, after[1]["id"])
    assert ("요구 종류가 '개인정보 열람 요구'로 적혀 있었습니다. 보내 주신 내용을 다시 살펴 요구 종류를 "
            "'자동화된 결정에 대한 거부·설명 등 요구'로 바로잡았습니다.") in text
    assert "처리 기한도 2026년 12월 3일(목)에서 2026년 12월 23일(수)로 바뀌었습니다" in text
    assert "처리 기한: 2026년 12월 23일(수)까지" in text  # the table of the corrected acknowledgement
    [mail] = smtp_server.wait_for(1)  # type: ignore[attr-defined]
    assert mail["To"] == "minji@example.com" and "자동화된 결정" in str(mail["Subject"])
    assert "'개인정보 열람 요구'로 적혀 있었습니다" in mail.get_body(("plain",)).get_content()
    html = client.get(f"/api/cases/{number}/notices/{after[1]['id']}/preview", headers=world.auth("officer")).text
    assert "바로잡았습니다" in html
    unchanged = notice_text(client, world, number, first["id"])
    assert "바로잡았" not in unchanged and "처리 기한: 2026년 12월 3일(목)까지" in unchanged


def test_the_corrected_acknowledgement_says_when_the_due_date_stays(client: httpx.Client, world: World) -> None:
    sign_in(client, "desk@testorg.example")
    number = world.cases["mine"]
    token = csrf_of(client.get(f"/cases/{number}"))
    done = client.post(f"/cases/{number}/corrections/right", data={"csrf_token": token, "right": "삭제"})
    assert "요청인에게 요구 종류를 바로잡은 접수 확인을 보냅니다" in client.get(done.headers["location"]).text
    corrected = case_notices(client, world, number)[-1]
    assert corrected["seq"] == 2 and corrected["status"] == "failed"  # no SMTP server here: kept for the sweep
    text = notice_text(client, world, number, corrected["id"])
    assert "'개인정보 삭제 요구'로 바로잡았습니다. 처리 기한은 2026년 12월 3일(목)까지로 달라지지 않았습니다." in text


def test_no_corrected_acknowledgement_without_an_earlier_one_or_an_address(client: httpx.Client, world: World) -> None:
    from dsar.db import session_scope
    from dsar.models import Request
    from tests.api.conftest import open_case

    received = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    no_address = open_case(world.org_id, received=received, email=None)
    late_address = open_case(world.org_id, received=received, email=None)
    with session_scope() as s:  # an address learnt after opening: no acknowledgement was ever made
        case = s.exec(select(Request).where(Request.number == late_address)).one()
        case.requester_email = "minji@example.com"
    for number in (no_address, late_address):
        done = client.put(f"/api/cases/{number}/right", json={"right": "삭제"}, headers=world.auth("officer")).json()
        assert done["changed"] is True and done["acknowledgement"] is None, number
        assert case_notices(client, world, number) == [], number
