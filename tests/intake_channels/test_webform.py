"""The web form: POST /intake/web (JSON), the HTML page GET /intake/form and its handler POST /intake/form.
A web request is stored as a real MIME message (source "web") and processed like mail: one case per right,
the agent as the form says, an acknowledgement by SMTP, the same submission twice kept once."""

from __future__ import annotations

import base64
import re
from email.message import EmailMessage

import pytest
from httpx import Client

from dsar.intake.parse import parse_message
from tests.intake_channels.helpers import all_cases, all_inbound, cases_of, inbound, notices_of

REQUEST = {
    "org": "testorg", "name": "홍길동", "email": "Hong@Example.com", "phone": "010-1234-5678",
    "right": ["열람", "erasure"], "details": "2024년에 가입한 쇼핑몰 계정의 주문 기록을 보고 싶습니다.",
}


def test_a_web_request_becomes_a_stored_message_and_one_case_per_right(
    client: Client, db: str, testorg: int, smtp_server  # type: ignore[no-untyped-def]
) -> None:
    r = client.post("/intake/web", json=REQUEST)
    assert r.status_code == 201, r.text
    answer = r.json()
    cases = cases_of(answer["inbound_id"])
    assert [c.right for c in cases] == ["열람", "삭제"] and answer["cases"] == [c.number for c in cases]
    assert answer["due"] == cases[0].due_date.isoformat()
    # PostgreSQL: numbers reserved, the message queued (here run at once); SQLite: processed before the answer
    assert answer["status"] == ("stored" if db.startswith("postgresql") else "processed")
    assert all(c.org_id == testorg and c.requester_email == "hong@example.com" for c in cases)
    assert all(c.agent_kind is None for c in cases)

    row = inbound(answer["inbound_id"])
    parsed = parse_message(row.raw)  # what is stored is an ordinary RFC 5322 message
    assert row.source == "web" and parsed.problem is None
    assert (parsed.sender, parsed.sender_name) == ("hong@example.com", "홍길동")
    assert parsed.recipients == ["privacy@testorg.example"]
    assert "주문 기록을 보고 싶습니다" in parsed.text and "010-1234-5678" in parsed.text

    mail = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in mail) == ["hong@example.com"] * 2
    assert {c.number for c in cases} == {re.search(r"DSAR-\d{4}-\d{6}", str(m["Subject"])).group(0) for m in mail}


@pytest.mark.parametrize(("kind", "relation", "expected"), [
    ("법정대리인", "부모", "법정대리인"),
    ("위임", "자녀", "위임"),  # a child holding a power of attorney is not a 법정대리인
    ("위임", "", "위임"),
])
def test_the_agent_kind_is_the_one_the_form_says(
    client: Client, testorg: int, kind: str, relation: str, expected: str
) -> None:
    document = {"filename": "위임장.pdf", "content_type": "application/pdf",
                "content": base64.b64encode(b"%PDF-1.4 mandate").decode()}
    data = {**REQUEST, "right": "정정", "agent": {"kind": kind, "name": "김대리", "relation": relation},
            "attachment": document}
    r = client.post("/intake/web", json=data)
    assert r.status_code == 201, r.text
    case = cases_of(r.json()["inbound_id"])[0]
    assert (case.right, case.agent_kind) == ("정정", expected)
    row = inbound(r.json()["inbound_id"])
    assert row.summary["attachments"][0]["filename"] == "위임장.pdf"
    parsed = parse_message(row.raw)
    assert parsed.sender_name == "김대리" and parsed.attachments[0].data == b"%PDF-1.4 mandate"


def test_the_same_submission_with_an_idempotency_key_is_kept_once(client: Client, testorg: int) -> None:
    headers = {"Idempotency-Key": "form-4f1b"}
    first = client.post("/intake/web", json=REQUEST, headers=headers)
    again = client.post("/intake/web", json=REQUEST, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["cases"] == again.json()["cases"] and len(all_inbound()) == 1 and len(all_cases()) == 2
    other = client.post("/intake/web", json=REQUEST, headers={"Idempotency-Key": "form-9zz"})
    assert other.status_code == 201 and len(all_inbound()) == 2


def test_the_answer_numbers_the_cases_at_once_and_the_cases_open_with_those_numbers(
    client: Client, db: str, testorg: int, redis_db: object, not_eager: None
) -> None:
    """PostgreSQL: the ids are reserved from the sequence, the answer comes before any case exists and the worker
    opens the cases with the numbers given. SQLite (no sequence): the cases are opened before the answer."""
    headers = {"Idempotency-Key": "form-reserve-1"}
    first = client.post("/intake/web", json=REQUEST, headers=headers).json()
    again = client.post("/intake/web", json=REQUEST, headers=headers).json()
    assert len(first["cases"]) == 2 and (again["cases"], again["due"]) == (first["cases"], first["due"])
    if db.startswith("postgresql"):
        assert first["status"] == "stored" and all_cases() == []
        from tasks.intake import process_inbound

        process_inbound([first["inbound_id"]])  # what a worker does with the queued message
    else:
        assert first["status"] == "processed"
    cases = cases_of(first["inbound_id"])
    assert [c.number for c in cases] == first["cases"] and [c.right for c in cases] == ["열람", "삭제"]
    assert cases[0].due_date.isoformat() == first["due"]
    later = client.post("/intake/web", json=REQUEST, headers=headers).json()
    assert later["cases"] == first["cases"] and later["status"] == "processed"


def test_the_rights_ticked_on_the_form_are_the_rights_whatever_the_text_mentions(
    client: Client, testorg: int
) -> None:
    asked = {**REQUEST, "right": ["열람"],
             "details": "열람 후에 필요하면 삭제도 요청하겠습니다. 처리정지는 원하지 않습니다."}
    answer = client.post("/intake/web", json=asked).json()
    cases = cases_of(answer["inbound_id"])
    assert [c.right for c in cases] == ["열람"] and answer["cases"] == [c.number for c in cases]
    assert cases[0].classification["evidence"]["열람"]


def test_a_right_the_organisation_does_not_offer_is_refused_alone_and_nothing_is_stored(
    client: Client, testorg: int
) -> None:
    import copy

    from dsar.db import session_scope
    from dsar.workflow.registry import latest_version, register

    with session_scope() as s:  # a policy whose workflows leave out 전송요구
        version = latest_version(s, testorg)
        assert version is not None
        resolved = copy.deepcopy(version.definition)
        del resolved["workflows"]["전송요구"]
        register(s, resolved)
    r = client.post("/intake/web", json={**REQUEST, "right": ["열람", "전송요구"]})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "right" and "전송요구 요구를 이 신청서로 받지 않습니다" in error["message"]
    assert all_inbound() == [] and all_cases() == []
    assert client.post("/intake/web", json={**REQUEST, "right": ["열람"]}).status_code == 201


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"name": " "}, "name", "성명"),
    ({"email": ""}, "email", "이메일"),
    ({"email": "hong@"}, "email", "형식"),
    ({"phone": "전화 주세요"}, "phone", "전화번호"),
    ({"right": []}, "right", "하나 이상"),
    ({"right": ["환불"]}, "right", "알 수 없는 요구 종류 '환불'"),
    ({"agent": {"kind": "친구", "name": "누군가"}}, "agent.kind", "법정대리인"),
    ({"agent": {"kind": "위임"}}, "agent.name", "대리인의 성명"),
    ({"attachment": {"filename": "a.pdf", "content": "***"}}, "attachment", "base64"),
])
def test_invalid_fields_are_422_with_a_korean_message_for_each_field(
    client: Client, testorg: int, change: dict, field: str, words: str  # type: ignore[type-arg]
) -> None:
    r = client.post("/intake/web", json={**REQUEST, **change})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert words in error["fields"][field] and list(error["fields"]) == [field]
    assert all_inbound() == []


def test_an_unknown_organisation_or_bad_json_is_refused_and_nothing_is_stored(client: Client, testorg: int) -> None:
    unknown = client.post("/intake/web", json={**REQUEST, "org": "nobody"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_org"
    assert "nobody" in unknown.json()["error"]["message"]
    broken = client.post("/intake/web", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "bad_json"
    assert all_inbound() == []


def test_the_form_page_is_plain_korean_html_offering_the_organisations_rights(client: Client, testorg: int) -> None:
    r = client.get("/intake/form", params={"org": "testorg"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "테스트주식회사" in page and 'enctype="multipart/form-data"' in page and 'lang="ko"' in page
    offered = re.findall(r'name="right" value="([^"]+)"', page)
    assert offered == ["열람", "정정", "삭제", "처리정지", "동의철회", "전송요구", "자동화결정"]
    for field in ("name", "email", "phone", "details", "agent_kind", "agent_name", "agent_relation", "attachment"):
        assert f'name="{field}"' in page


def test_the_form_page_of_an_unknown_organisation_is_a_korean_404(client: Client, testorg: int) -> None:
    for params in ({"org": "<script>x</script>"}, {}):
        r = client.get("/intake/form", params=params)
        assert r.status_code == 404 and "신청서를 열 수 없습니다" in r.text
        assert "<script>x" not in r.text  # autoescaped


def _form(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"org": "testorg", "name": "이영희", "email": "lee@example.com", "phone": "",
                               "right": ["정정", "처리정지"], "details": "이사를 해서 주소가 바뀌었습니다.",
                               "agent_kind": "", "agent_name": "", "agent_relation": ""}
    base.update(fields)
    return base


def test_the_form_handler_shows_the_case_numbers_and_due_date(client: Client, testorg: int) -> None:
    upload = {"attachment": ("가족관계증명서.pdf", b"%PDF-1.4 family", "application/pdf")}
    r = client.post("/intake/form", data=_form(agent_kind="법정대리인", agent_name="이부모", agent_relation="부모"),
                    files=upload)
    assert r.status_code == 201, r.text
    cases = all_cases()
    assert [c.right for c in cases] == ["정정", "처리정지"] and {c.agent_kind for c in cases} == {"법정대리인"}
    due = cases[0].due_date
    assert due is not None
    for case in cases:
        assert f"<strong>{case.number}</strong>" in r.text
    assert f"{due.year}년 {due.month}월 {due.day}일" in r.text and "신청이 접수되었습니다" in r.text
    row = inbound(cases[0].inbound_id or 0)
    assert row.source == "web" and row.summary["attachments"][0]["filename"] == "가족관계증명서.pdf"
    assert parse_message(row.raw).attachments[0].data == b"%PDF-1.4 family"
    assert [n.kind for n in notices_of(cases[0].id or 0)] == ["acknowledgement"]


def test_form_errors_come_back_on_the_form_with_the_values_kept_and_escaped(client: Client, testorg: int) -> None:
    r = client.post("/intake/form", data=_form(name="<b>이영희</b>", email="lee@", right=[]),
                    files={"attachment": ("", b"", "application/octet-stream")})
    assert r.status_code == 422
    assert "입력 내용을 확인해 주세요" in r.text and "형식이 올바르지 않습니다" in r.text and "하나 이상" in r.text
    assert 'value="&lt;b&gt;이영희&lt;/b&gt;"' in r.text and "<b>이영희</b>" not in r.text
    assert "주소가 바뀌었습니다" in r.text  # the text the person wrote is not lost
    assert all_inbound() == []


def test_an_oversized_upload_is_shown_on_the_form_and_the_other_fields_are_kept(
    client: Client, testorg: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.intake import webform

    monkeypatch.setattr(webform, "MAX_ATTACHMENT_BYTES", 1024)
    r = client.post("/intake/form", data=_form(), files={"attachment": ("위임장.pdf", b"%" * 4096, "application/pdf")})
    assert r.status_code == 422 and "첨부파일이" in r.text and 'id="problem-attachment"' in r.text
    assert 'value="이영희"' in r.text and 'value="정정" checked' in r.text
    assert all_inbound() == []


def test_an_urlencoded_form_without_a_file_is_taken_too(client: Client, testorg: int) -> None:
    r = client.post("/intake/form", data=_form(right="열람"))
    assert r.status_code == 201 and [c.right for c in all_cases()] == ["열람"]


def test_the_web_message_is_a_well_formed_email_message(client: Client, testorg: int) -> None:
    r = client.post("/intake/web", json=REQUEST)
    from email import message_from_bytes, policy

    msg = message_from_bytes(inbound(r.json()["inbound_id"]).raw, policy=policy.default)
    assert isinstance(msg, EmailMessage) and not msg.defects
    assert msg["X-DSAR-Channel"] == "web" and msg["Message-ID"].startswith("<web.")
    assert str(msg["Subject"]) == "[홈페이지 신청] 개인정보 열람·삭제 요구"
