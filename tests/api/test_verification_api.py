"""본인확인 over HTTP: the staff API under /api/cases/{number}/verification, the requester's code page (/verify)
and the case page's 본인확인 section in the console.

Codes travel for real: e-mail to the loopback SMTP server, SMS through the logging transport (data_dir/sms.log).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import col, select

from tests.api.conftest import NOW, World
from tests.api.test_auth import csrf_of, sign_in
from tests.api.test_cases import audit_actions

CODE = re.compile(r"확인 코드 (\d{6})")
SMS_CODE = re.compile(r"코드는 (\d{6})입니다")
RECEIVED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
PHONE = "010-2345-6789"


# ------------------------------------------------------------------------------------------ helpers


def url(number: str, action: str = "") -> str:
    return f"/api/cases/{number}/verification" + (f"/{action}" if action else "")


def open_case(org_id: int, **fields: Any) -> str:
    """A case of the organisation assigned to 이담당 (desk@testorg.example) unless told otherwise."""
    from dsar import engine
    from dsar.clock import FixedClock
    from dsar.db import session_scope
    from dsar.models import ContactPerson, Organisation

    with session_scope() as s:
        desk = s.exec(select(ContactPerson).where(ContactPerson.org_id == org_id,
                                                  ContactPerson.email == "desk@testorg.example")).first()
        fields.setdefault("assignee_id", desk.id if desk else None)
        case = engine.open_case(s, org=s.get(Organisation, org_id), right="열람", received_at=RECEIVED, actor="test",
                                clock=FixedClock(RECEIVED), requester_name="김민지",
                                requester_email=fields.pop("email", "minji@example.com"), **fields)
        return case.number or ""


def stage(number: str) -> str:
    from dsar.db import session_scope
    from dsar.models import Request

    with session_scope() as s:
        return s.exec(select(Request.stage).where(Request.number == number)).one()


def verification_events(number: str) -> list[tuple[str, str, dict[str, Any]]]:
    from dsar.db import session_scope
    from dsar.models import AuditEvent, Request

    with session_scope() as s:
        case_id = s.exec(select(Request.id).where(Request.number == number)).one()
        return [(e.action, e.actor, e.details) for e in s.exec(
            select(AuditEvent).where(AuditEvent.request_id == case_id, col(AuditEvent.action).startswith("verif"))
            .order_by(col(AuditEvent.id)))]


def codes_of(number: str) -> list[tuple[str, int]]:
    """(status, attempts) of every code sent for the case, oldest first."""
    from dsar.db import session_scope
    from dsar.models import Request
    from dsar.verification_models import VerificationChallenge

    with session_scope() as s:
        case_id = s.exec(select(Request.id).where(Request.number == number)).one()
        return [(c.status, c.attempts) for c in s.exec(select(VerificationChallenge).where(
            VerificationChallenge.request_id == case_id).order_by(col(VerificationChallenge.id)))]


def texts() -> list[dict[str, str]]:
    """The SMS the logging transport wrote."""
    from dsar.settings import get_settings

    log = get_settings().data_dir / "sms.log"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []


def last_sms_code() -> str:
    match = SMS_CODE.search(texts()[-1]["text"])
    assert match, texts()
    return match.group(1)


def mailed_code(smtp_server: Any, count: int = 1) -> str:
    mail = [m for m in smtp_server.wait_for(count) if "본인 확인" in str(m["Subject"])]
    assert len(mail) == count, [str(m["Subject"]) for m in smtp_server.messages]
    match = CODE.search(mail[-1].get_body(preferencelist=("plain",)).get_content())
    assert match
    return match.group(1)


def other_than(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def enter(client: httpx.Client, number: str, code: str) -> httpx.Response:
    form = client.get("/verify")
    return client.post("/verify", data={"csrf_token": csrf_of(form), "number": number, "code": code})


def send_sms_code(client: httpx.Client, world: World, number: str) -> str:
    sent = client.post(url(number, "codes"), headers=world.auth("handler"), json={"method": "phone_code"})
    assert sent.status_code == 200 and sent.json()["sent"] is True, sent.text
    return last_sms_code()


# ------------------------------------------------------------------------------------------ the API


def test_state_before_start_shows_the_policy_methods_and_is_an_audited_view(client: httpx.Client,
                                                                            world: World) -> None:
    number = world.cases["mine"]
    got = client.get(url(number), headers=world.auth("auditor"))
    assert got.status_code == 200
    v = got.json()
    assert (v["status"], v["status_label"], v["requirement"], v["startable"]) == ("not_started", "시작 전",
                                                                                  "identity", True)
    assert [(m["method"], m["usable"]) for m in v["methods"]] == [
        ("email_code", True), ("phone_code", False), ("document", True)]  # the case has no phone number
    assert (v["code"], v["codes_sent"], v["max_codes"], v["checklist"], v["checks"]) == (None, 0, 5, [], [])
    assert {"code": "resident_card", "label": "주민등록증"} in v["document_types"]
    assert "minji@example.com" not in got.text and "김민지" not in got.text
    assert audit_actions(number)[-1] == ("request.viewed", "staff:audit@testorg.example")


def test_start_moves_the_case_to_verification_once(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]
    first = client.post(url(number, "start"), headers=world.auth("handler"))
    assert first.status_code == 200, first.text
    v = first.json()
    assert (v["status"], v["startable"]) == ("open", False) and stage(number) == "verifying"
    assert datetime.fromisoformat(v["close_at"]) - datetime.fromisoformat(v["started_at"]) == timedelta(days=7)
    assert client.post(url(number, "start"), headers=world.auth("handler")).json()["status"] == "open"
    assert [(a, who) for a, who, _ in verification_events(number)] == [
        ("verification.started", "staff:desk@testorg.example")]


def test_an_emailed_code_is_entered_by_the_requester_on_the_public_page(
    client: httpx.Client, world: World, smtp_server: Any
) -> None:
    number = world.cases["mine"]
    sent = client.post(url(number, "codes"), headers=world.auth("handler"), json={"method": "email_code"})
    assert sent.status_code == 200 and sent.json()["sent"] is True
    assert sent.json()["message"] == "전자우편으로 확인 코드를 보냈습니다 (10분 동안 유효)"
    assert sent.json()["verification"]["code"]["status"] == "pending"
    code = mailed_code(smtp_server)
    assert code not in sent.text

    done = enter(client, number, f"{code[:3]} {code[3:]}")  # spaces as people type them
    assert done.status_code == 200 and "본인 확인이 완료되었습니다" in done.text and "테스트주식회사" in done.text
    assert stage(number) == "reviewing"
    v = client.get(url(number), headers=world.auth("handler")).json()
    assert v["status"] == "verified" and [c["method"] for c in v["checks"]] == ["email_code"]
    assert [(a, who) for a, who, _ in verification_events(number)][-1] == ("verification.code_accepted", "requester")


def test_an_email_that_cannot_be_sent_is_reported_and_its_code_is_void(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]  # no SMTP server listens in this test
    sent = client.post(url(number, "codes"), headers=world.auth("handler"), json={"method": "email_code"})
    assert sent.status_code == 200 and sent.json()["sent"] is False
    assert sent.json()["message"].startswith("확인 코드를 보내지 못했습니다")
    assert sent.json()["verification"]["code"]["status"] == "void"


def test_an_sms_code_goes_through_the_sms_transport(client: httpx.Client, world: World) -> None:
    number = open_case(world.org_id, requester_phone=PHONE)
    code = send_sms_code(client, world, number)
    assert texts()[-1]["to"] == PHONE and number in texts()[-1]["text"]
    assert client.get(url(number), headers=world.auth("handler")).json()["code"]["method"] == "phone_code"
    assert enter(client, number, code).status_code == 200 and stage(number) == "reviewing"


def test_a_document_check_completes_the_check_and_keeps_only_the_kind(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]
    client.post(url(number, "start"), headers=world.auth("handler"))
    done = client.post(url(number, "documents"), headers=world.auth("handler"),
                       json={"document_type": "driver_licence"})
    assert done.status_code == 200
    v = done.json()
    assert v["status"] == "verified" and stage(number) == "reviewing"
    assert [(c["label"], c["item_label"], c["by"]) for c in v["checks"]] == [
        ("신분증 확인(담당자)", "운전면허증", "staff:desk@testorg.example")]
    assert verification_events(number)[-1][::2] == ("verification.document_checked",
                                                      {"document_type": "driver_licence"})


def test_bad_input_is_a_clear_422_and_changes_nothing(client: httpx.Client, world: World) -> None:
    number, handler = world.cases["mine"], world.auth("handler")
    client.post(url(number, "start"), headers=handler)
    refusals = [
        ("documents", {"document_type": "library_card"}, "주민등록증"),
        ("login", None, "로그인"),  # testorg's policy offers no login
        ("codes", {"method": "phone_code"}, "휴대전화 번호"),  # the case has no phone number
        ("codes", {"method": "fax"}, "method"),
        ("checklist", {"item": "power_of_attorney"}, "대리인 요구가 아니어서"),
        ("documents", {"document_type": "x" * 41}, "document_type"),
    ]
    for action, body, says in refusals:
        got = client.post(url(number, action), headers=handler, json=body)
        assert got.status_code == 422 and got.json()["error"]["code"] == "invalid_input", (action, got.text)
        assert says in got.json()["error"]["message"], got.json()
    v = client.get(url(number), headers=handler).json()
    assert (v["status"], v["checks"], v["codes_sent"]) == ("open", [], 0)


def test_a_closed_case_cannot_start_a_check(client: httpx.Client, world: World) -> None:
    from tests.api.conftest import advance

    number = world.cases["mine"]
    advance(number, "start_verification", "verify", "approve")
    got = client.post(url(number, "start"), headers=world.auth("handler"))
    assert got.status_code == 409 and got.json()["error"]["code"] == "transition_not_allowed"
    assert "본인확인을 시작할 수 없습니다" in got.json()["error"]["message"]


def test_an_agent_checklist_is_ticked_item_by_item_until_the_check_completes(
    client: httpx.Client, world: World
) -> None:
    number = open_case(world.org_id, agent_kind="위임")
    handler = world.auth("handler")
    v = client.post(url(number, "start"), headers=handler).json()
    assert v["requirement"] == "위임" and [i["done"] for i in v["checklist"]] == [False] * 4
    notices = client.get(f"/api/cases/{number}/notices", headers=handler).json()["items"]
    assert "verification_request" in [n["kind"] for n in notices]  # the agent is asked for the documents
    items = [i["item"] for i in v["checklist"]]
    for item in items[:-1]:
        v = client.post(url(number, "checklist"), headers=handler, json={"item": item}).json()
    assert v["status"] == "open" and stage(number) == "verifying"
    again = client.post(url(number, "checklist"), headers=handler, json={"item": items[0]}).json()
    assert [i["done"] for i in again["checklist"]] == [True, True, True, False]
    v = client.post(url(number, "checklist"), headers=handler, json={"item": items[-1]}).json()
    assert v["status"] == "verified" and stage(number) == "reviewing"
    assert all(i["by"] == "staff:desk@testorg.example" and i["at"] for i in v["checklist"])
    ticks = [d["item"] for a, _, d in verification_events(number) if a == "verification.checklist_ticked"]
    assert ticks == items  # ticking twice is recorded once


def test_a_login_is_recorded_where_the_policy_offers_it(client: httpx.Client, world: World) -> None:
    from dsar.auth import accounts
    from dsar.db import session_scope
    from tests.test_assignment import register_variant

    org = register_variant("loginorg", verification=["로그인"])
    with session_scope() as s:
        _, token = accounts.create_token(s, name="loginorg-officer", actor="test", role="책임자", org_slug="loginorg")
    number = open_case(org)
    officer = {"Authorization": f"Bearer {token}"}
    v = client.post(url(number, "start"), headers=officer).json()
    assert [m["method"] for m in v["methods"]] == ["login", "document"]
    done = client.post(url(number, "login"), headers=officer)
    assert done.status_code == 200 and done.json()["status"] == "verified" and stage(number) == "reviewing"
    assert verification_events(number)[-1][:2] == ("verification.login_confirmed", "token:loginorg-officer")


WRITES = [("start", None), ("codes", {"method": "email_code"}), ("documents", {"document_type": "passport"}),
          ("checklist", {"item": "agent_identity"}), ("login", None)]


def test_reads_for_the_organisation_and_writes_only_for_who_works_the_case(client: httpx.Client,
                                                                           world: World) -> None:
    number = world.cases["mine"]
    for role, status in {"admin": 200, "officer": 200, "handler": 200, "handler2": 200, "auditor": 200,
                         "other_officer": 404, "other_handler": 404}.items():
        assert client.get(url(number), headers=world.auth(role)).status_code == status, role
    failures = []
    for action, body in WRITES:
        for role, status in {"admin": 403, "auditor": 403, "handler2": 403, "other_officer": 404}.items():
            got = client.post(url(number, action), headers=world.auth(role), json=body)
            code = {403: "forbidden", 404: "not_found"}[status]
            if got.status_code != status or got.json()["error"]["code"] != code:
                failures.append(f"{action} as {role}: {got.status_code} {got.text[:200]}")
        if client.post(url(number, action), json=body).status_code != 401:
            failures.append(f"{action} without a token")
    assert not failures, "\n".join(failures)
    assert stage(number) == "received" and codes_of(number) == [] and verification_events(number) == []
    hidden = client.get(url(number), headers=world.auth("other_officer")).json()["error"]["message"]
    unknown = client.get(url("DSAR-2026-999999"), headers=world.auth("other_officer")).json()["error"]["message"]
    assert hidden.replace(number, "X") == unknown.replace("DSAR-2026-999999", "X")


# ---------------------------------------------------------------------------- the requester's page


def test_the_page_counts_wrong_codes_down_then_locks_and_offers_a_new_code(client: httpx.Client,
                                                                         world: World) -> None:
    number = open_case(world.org_id, requester_phone=PHONE)
    code = send_sms_code(client, world, number)
    page = client.get("/verify")
    assert page.status_code == 200 and "본인 확인 코드 입력" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for left in (4, 3, 2, 1):
        wrong = enter(client, number, other_than(code))
        assert wrong.status_code == 422 and f"앞으로 {left}번 더 입력할 수 있습니다" in wrong.text
        assert "새 코드 받기" not in wrong.text
    locked = enter(client, number, other_than(code))
    assert locked.status_code == 429 and "시도 횟수 초과" in locked.text and "새 코드 받기" in locked.text
    assert enter(client, number, code).status_code == 429  # the right code no longer helps
    assert stage(number) == "verifying" and codes_of(number) == [("locked", 5)]

    again = client.post("/verify/new-code", data={"csrf_token": csrf_of(locked), "number": number})
    assert again.status_code == 200 and "새 확인 코드를 휴대전화로 보내 드렸습니다" in again.text
    assert len(texts()) == 2 and [s for s, _ in codes_of(number)] == ["locked", "pending"]
    assert enter(client, number, last_sms_code()).status_code == 200 and stage(number) == "reviewing"


def test_an_expired_code_is_refused_and_a_new_one_can_be_asked_for(client: httpx.Client, world: World) -> None:
    from dsar import verification
    from dsar.clock import FixedClock
    from dsar.db import session_scope
    from dsar.models import Request

    number = open_case(world.org_id, requester_phone=PHONE)
    with session_scope() as s:  # sent 11 minutes before the page is used: past its 10 minutes
        case = s.exec(select(Request).where(Request.number == number)).one()
        earlier = FixedClock(NOW - timedelta(minutes=11))
        verification.send_code(s, case, method="phone_code", actor="test", clock=earlier)
    expired = enter(client, number, last_sms_code())
    assert expired.status_code == 422 and "유효 시간이 지났습니다" in expired.text and "새 코드 받기" in expired.text
    assert stage(number) == "verifying"
    again = client.post("/verify/new-code", data={"csrf_token": csrf_of(expired), "number": number})
    assert again.status_code == 200 and len(texts()) == 2
    done = enter(client, number, last_sms_code())
    assert done.status_code == 200 and "본인 확인이 완료되었습니다" in done.text


def test_the_page_checks_its_csrf_token_and_form_before_counting_an_attempt(client: httpx.Client,
                                                                           world: World) -> None:
    number = open_case(world.org_id, requester_phone=PHONE)
    code = send_sms_code(client, world, number)
    forged = client.post("/verify", data={"number": number, "code": code})
    assert forged.status_code == 403 and "보안 확인 값이 맞지 않습니다" in forged.text
    assert enter(client, number, "12ab").status_code == 422
    assert "숫자 6자리" in enter(client, number, "12345").text
    assert "접수번호를 확인해 주세요" in enter(client, "<script>", code).text
    assert codes_of(number) == [("pending", 0)] and stage(number) == "verifying"


def test_the_page_does_not_tell_whether_a_case_exists(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]  # exists, but no code was ever sent
    silent = enter(client, number, "123456")
    unknown = enter(client, "DSAR-2026-999999", "123456")
    assert silent.status_code == unknown.status_code == 422
    problem = re.compile(r'<p id="problem">(.*?)</p>', re.S)
    assert problem.search(silent.text).group(1) == problem.search(unknown.text).group(1)  # type: ignore[union-attr]
    token = csrf_of(client.get("/verify"))
    for ref in (number, "DSAR-2026-999999"):
        refused = client.post("/verify/new-code", data={"csrf_token": token, "number": ref})
        assert refused.status_code == 422 and "새 확인 코드를 보내 드릴 수 없습니다" in refused.text
    assert stage(number) == "received" and codes_of(number) == []  # a stranger cannot start a check


def test_no_new_code_while_the_current_one_still_works(client: httpx.Client, world: World) -> None:
    number = open_case(world.org_id, requester_phone=PHONE)
    code = send_sms_code(client, world, number)
    token = csrf_of(client.get("/verify"))
    refused = client.post("/verify/new-code", data={"csrf_token": token, "number": number})
    assert refused.status_code == 422 and "새 확인 코드를 보내 드릴 수 없습니다" in refused.text
    assert len(texts()) == 1 and codes_of(number) == [("pending", 0)]
    assert enter(client, number, code).status_code == 200


# ---------------------------------------------------------------------------------------- console


def section(html: str) -> str:
    match = re.search(r'<section class="card" id="verification">(.*?)</section>', html, re.S)
    assert match, html[:2000]
    return match.group(1)


def form(html: str, action: str) -> str:
    match = re.search(rf'<form[^>]*action="[^"]*/verification/{action}"[^>]*>(.*?)</form>', html, re.S)
    assert match, action
    return match.group(1)


def test_console_starts_the_check_and_records_a_document(client: httpx.Client, world: World) -> None:
    sign_in(client, "desk@testorg.example")
    number = world.cases["mine"]
    page = client.get(f"/cases/{number}")
    box = section(page.text)
    assert "시작 전" in box and "disabled" not in form(box, "start")
    moved = client.post(f"/cases/{number}/verification/start", data={"csrf_token": csrf_of(page)})
    assert moved.status_code == 303 and moved.headers["location"] == f"/cases/{number}#verification"
    after = client.get(moved.headers["location"])
    box = section(after.text)
    assert "본인확인을 시작했습니다" in after.text and "진행 중" in box
    assert "코드 보내기" in form(box, "codes") and 'value="phone_code"' not in form(box, "codes")  # no phone
    assert 'value="passport">여권' in form(box, "documents")

    done = client.post(f"/cases/{number}/verification/documents",
                       data={"csrf_token": csrf_of(after), "document_type": "passport"})
    page = client.get(done.headers["location"]).text
    assert "여권 확인을 기록했습니다 (본인확인 완료: &#39;검토&#39; 단계로 옮김)" in page
    assert '<span class="badge stage" id="stage">검토</span>' in page
    assert "신분증 확인(담당자): 여권" in section(page) and "완료" in section(page)


def test_console_sends_a_code_and_ticks_an_agent_checklist(client: httpx.Client, world: World,
                                                           smtp_server: Any) -> None:
    sign_in(client, "desk@testorg.example")
    number = world.cases["mine"]
    token = csrf_of(client.get(f"/cases/{number}"))
    client.post(f"/cases/{number}/verification/start", data={"csrf_token": token})
    sent = client.post(f"/cases/{number}/verification/codes", data={"csrf_token": token, "method": "email_code"})
    page = client.get(sent.headers["location"]).text
    assert "전자우편으로 확인 코드를 보냈습니다" in page and "입력 대기 · 입력 0/5회" in section(page)
    assert mailed_code(smtp_server)

    agent = open_case(world.org_id, agent_kind="법정대리인")
    client.post(f"/cases/{agent}/verification/start", data={"csrf_token": token})
    box = section(client.get(f"/cases/{agent}").text)
    items = re.findall(r'name="item" value="([a-z_0-9]+)"', box)
    assert items == ["relationship_proof", "subject_under_14", "representative_identity"]
    for item in items:
        ticked = client.post(f"/cases/{agent}/verification/checklist", data={"csrf_token": token, "item": item})
        assert ticked.status_code == 303
    page = client.get(f"/cases/{agent}").text
    assert "확인함: 법정대리인 본인의 신분증을 확인함" in page and "본인확인 완료" in page
    assert section(page).count("확인함</span>") == 3 and stage(agent) == "reviewing"


def test_console_refuses_read_only_roles_and_posts_without_the_token(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]
    sign_in(client, "audit@testorg.example")
    page = client.get(f"/cases/{number}")
    box = section(page.text)
    assert "disabled" in form(box, "start") and "이 사건을 처리할 권한이 없습니다" in box
    refused = client.post(f"/cases/{number}/verification/start", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 303
    assert "감사 역할은 사건을 처리할 수 없습니다" in client.get(refused.headers["location"]).text
    client.cookies.clear()
    sign_in(client, "desk@testorg.example")
    assert client.post(f"/cases/{number}/verification/start", data={}).status_code == 403
    assert stage(number) == "received" and verification_events(number) == []


def test_console_hides_another_organisations_case(client: httpx.Client, world: World) -> None:
    sign_in(client, "officer@testorg.example")
    token = csrf_of(client.get("/queue"))
    got = client.post(f"/cases/{world.cases['other']}/verification/start", data={"csrf_token": token})
    assert got.status_code == 404 and stage(world.cases["other"]) == "received"
