"""POST /intake/email: raw RFC 5322 or an inbound-mail service's JSON, token or HMAC signature; stored before
the answer, processed by the intake queue, refused with a 4xx (never a 500), kept when the broker is down."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime

import pytest
from httpx import Client

from dsar.intake.parse import parse_message
from tests.intake_channels.helpers import (
    TOKEN,
    all_cases,
    all_inbound,
    broker_unreachable,
    cases_of,
    inbound,
    message,
    notices_of,
    wait_until,
)

AUTH = {"X-DSAR-Token": TOKEN}


def _sign(body: bytes, key: str = TOKEN) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def test_raw_message_with_the_token_is_stored_byte_for_byte_and_opens_a_case(client: Client, testorg: int) -> None:
    raw = message()
    r = client.post("/intake/email", content=raw, headers={**AUTH, "Content-Type": "message/rfc822"})
    assert r.status_code == 202
    body = r.json()
    assert body["created"] is True and body["status"] == "stored"
    row = inbound(body["inbound_id"])
    assert row.raw == raw and row.source == "webhook" and row.sha256 == hashlib.sha256(raw).hexdigest()
    cases = cases_of(row.id or 0)  # tests run tasks inline: processing happened right after the commit
    assert [c.right for c in cases] == ["열람"] and cases[0].org_id == testorg
    assert row.status == "processed"


def test_a_valid_hmac_signature_is_accepted_and_a_wrong_one_refused(client: Client, testorg: int) -> None:
    raw = message(message_id="<signed@example.com>")
    ok = client.post("/intake/email", content=raw, headers={"X-DSAR-Signature": _sign(raw)})
    assert ok.status_code == 202 and ok.json()["created"] is True
    other = message(message_id="<forged@example.com>")
    for signature in (_sign(raw), _sign(other, key="not-the-token"), "sha1=" + _sign(other)[7:], "sha256=zz"):
        bad = client.post("/intake/email", content=other, headers={"X-DSAR-Signature": signature})
        assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorised"
    assert len(all_inbound()) == 1


@pytest.mark.parametrize("headers", [{}, {"X-DSAR-Token": "wrong"}, {"X-DSAR-Token": TOKEN + "x"},
                                     {"X-DSAR-Token": "토큰"}])
def test_a_missing_or_wrong_token_is_401_and_nothing_is_stored(client: Client, headers: dict[str, str]) -> None:
    encoded = {k: v.encode() for k, v in headers.items()}  # raw UTF-8 bytes in a header are possible too
    r = client.post("/intake/email", content=message(), headers=encoded)
    assert r.status_code == 401
    assert re.search("[가-힣]", r.json()["error"]["message"]) and "token" in r.json()["error"]["message"]
    assert all_inbound() == []


def test_without_a_configured_token_the_webhook_refuses_everything(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.settings import get_settings

    monkeypatch.setenv("DSAR_WEBHOOK_TOKEN", "")
    get_settings.cache_clear()
    r = client.post("/intake/email", content=message(), headers={"X-DSAR-Token": ""})
    assert r.status_code == 403 and r.json()["error"]["code"] == "webhook_disabled"
    assert all_inbound() == []


def _json_mail(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "from": "김민지 <minji.kim@example.com>", "to": ["privacy@testorg.example", "desk@other.example"],
        "cc": "audit@example.com", "subject": "개인정보 삭제 요청",
        "text": "예전에 쓰던 계정의 개인정보를 모두 삭제해 주세요.\n김민지 드림",
        "html": "<p>예전에 쓰던 계정의 개인정보를 <b>모두 삭제</b>해 주세요.</p>",
        "headers": {"Message-ID": "<json-1@mail.example.com>", "Date": "Tue, 17 Nov 2026 09:00:00 +0900",
                    "Received": "from mx.example.com by inbound.example.net; Tue, 17 Nov 2026 09:00:05 +0900",
                    "X-Spam-Score": "0.1"},
        "attachments": [{"filename": "신분증.pdf", "content_type": "application/pdf",
                         "content": base64.b64encode(b"%PDF-1.7 sample").decode()}],
    }
    data.update(overrides)
    return data


def test_the_json_shape_is_stored_as_a_real_mime_message(client: Client, testorg: int) -> None:
    r = client.post("/intake/email", json=_json_mail(), headers=AUTH)
    assert r.status_code == 202
    row = inbound(r.json()["inbound_id"])
    parsed = parse_message(row.raw)
    assert parsed.problem is None
    assert parsed.sender == "minji.kim@example.com" and parsed.sender_name == "김민지"
    assert parsed.recipients == ["privacy@testorg.example", "desk@other.example", "audit@example.com"]
    assert parsed.subject == "개인정보 삭제 요청" and parsed.message_id == "json-1@mail.example.com"
    assert "모두 삭제해 주세요" in parsed.text  # the plain-text alternative, not the HTML
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("신분증.pdf", "application/pdf", b"%PDF-1.7 sample")]
    assert b"X-Spam-Score: 0.1" in row.raw and row.message_id == "json-1@mail.example.com"
    cases = cases_of(row.id or 0)
    assert [c.right for c in cases] == ["삭제"] and cases[0].requester_email == "minji.kim@example.com"
    # The clock runs from the mail service's Received stamp (when the message reached the mail system).
    assert cases[0].received_at == datetime(2026, 11, 17, 0, 0, 5, tzinfo=UTC)


def test_without_a_received_stamp_the_clock_runs_from_arrival_at_the_webhook(client: Client, testorg: int) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    data = _json_mail(headers={"Message-ID": "<no-stamp@example.com>", "Date": "Tue, 10 Nov 2026 09:00:00 +0900"})
    r = client.post("/intake/email", json=data, headers=AUTH)
    row = inbound(r.json()["inbound_id"])
    assert row.raw.startswith(b"Received: by ")
    received = cases_of(row.id or 0)[0].received_at
    assert before <= received <= datetime.now(UTC)


def test_an_html_only_json_message_is_read_from_its_html(client: Client, testorg: int) -> None:
    data = _json_mail(text=None, attachments=[], headers={"Message-ID": "<html-only@example.com>"})
    r = client.post("/intake/email", json=data, headers=AUTH)
    assert r.status_code == 202
    parsed = parse_message(inbound(r.json()["inbound_id"]).raw)
    assert "모두 삭제" in parsed.text and "<b>" not in parsed.text


def test_json_reply_headers_thread_the_message_to_its_case(client: Client, testorg: int) -> None:
    first = client.post("/intake/email", content=message(), headers=AUTH).json()
    case = cases_of(first["inbound_id"])[0]
    ack = notices_of(case.id or 0)[0]
    reply = _json_mail(subject="Re: 접수 확인", text="신분증 사본을 보냅니다.",
                       headers={"Message-ID": "<reply-1@example.com>", "In-Reply-To": ack.message_id,
                                "References": ack.message_id})
    r = client.post("/intake/email", json=reply, headers=AUTH)
    assert r.status_code == 202
    row = inbound(r.json()["inbound_id"])
    assert row.summary["thread_of"] == case.number and cases_of(row.id or 0) == []


def test_the_same_json_post_twice_is_one_message_and_one_case(client: Client, testorg: int) -> None:
    body = json.dumps(_json_mail(headers={}), ensure_ascii=False).encode()  # no Message-ID: one is derived
    answers = [client.post("/intake/email", content=body, headers={**AUTH, "Content-Type": "application/json"})
               for _ in range(2)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json()["inbound_id"] == answers[1].json()["inbound_id"]
    assert (answers[0].json()["created"], answers[1].json()["created"]) == (True, False)
    assert len(all_inbound()) == 1 and len(all_cases()) == 1


REFUSALS = [
    ("empty body", b"", "message/rfc822", 400, "empty_body"),
    ("blank body", b"\r\n  \r\n", "message/rfc822", 400, "empty_body"),
    ("bad json", b'{"from": "a@b.example", ', "application/json", 400, "bad_json"),
    ("json not an object", b"[1, 2]", "application/json", 400, "bad_json"),
    ("missing from", json.dumps({"to": "privacy@testorg.example", "text": "x"}).encode(), "application/json", 400,
     "missing_field"),
    ("missing to", json.dumps({"from": "a@b.example", "text": "x"}).encode(), "application/json", 400,
     "missing_field"),
    ("bad address", json.dumps({"from": "not an address", "to": "privacy@testorg.example"}).encode(),
     "application/json", 400, "bad_address"),
    ("bad base64", json.dumps({"from": "a@b.example", "to": "privacy@testorg.example",
                               "attachments": [{"filename": "x.pdf", "content": "%%%not base64%%%"}]}).encode(),
     "application/json", 400, "bad_base64"),
    ("header injection", json.dumps({"from": "a@b.example", "to": "privacy@testorg.example",
                                     "headers": {"X-Note": "a\r\nBcc: victim@example.com"}}).encode(),
     "application/json", 400, "bad_header"),
    ("subject injection", json.dumps({"from": "a@b.example", "to": "privacy@testorg.example",
                                      "subject": "hi\nBcc: victim@example.com"}).encode(),
     "application/json", 400, "bad_header"),
    ("unsupported type", b"<html></html>", "text/html", 415, "unsupported_media_type"),
    ("lone surrogate", b'{"from": "a@b.example", "to": "privacy@testorg.example", "text": "x\\ud800y"}',
     "application/json", 400, "bad_value"),
    ("deeply nested json", b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "bad_json"),
]


@pytest.mark.parametrize(("name", "body", "ctype", "status", "code"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_are_4xx_in_korean_and_english_and_store_nothing(
    client: Client, name: str, body: bytes, ctype: str, status: int, code: str
) -> None:
    r = client.post("/intake/email", content=body, headers={**AUTH, "Content-Type": ctype})
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert re.search("[가-힣]", error["message"]) and re.search(r"\([^)]*[a-zA-Z]{3,}[^)]*\)$", error["message"])
    assert all_inbound() == []


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.api import intake as intake_api

    monkeypatch.setattr(intake_api, "MAX_MAIL_BYTES", 2048)
    declared = client.post("/intake/email", content=message(body="가" * 2000), headers=AUTH)
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "too_large"

    def chunks():  # no Content-Length: the limit is enforced while reading
        yield message(body="")
        for _ in range(10):
            yield b"x" * 500

    streamed = client.post("/intake/email", content=chunks(), headers=AUTH)
    assert streamed.status_code == 413
    assert client.post("/intake/email", content=message(), headers=AUTH).status_code == 202
    assert len(all_inbound()) == 1


def test_when_the_broker_is_down_the_message_stays_stored_and_requeue_processes_it(
    db: str, smtp_server, testorg: int, client: Client, celery_worker_process,  # type: ignore[no-untyped-def]
    not_eager: None,
) -> None:
    from tasks.intake import requeue_stored

    raw = message(message_id="<while-broker-down@example.com>")
    with broker_unreachable():
        r = client.post("/intake/email", content=raw, headers=AUTH)
    assert r.status_code == 202 and r.json() == {"inbound_id": r.json()["inbound_id"], "created": True,
                                                 "status": "stored"}
    inbound_id = r.json()["inbound_id"]
    assert inbound(inbound_id).status == "stored" and cases_of(inbound_id) == []

    assert requeue_stored(older_than_seconds=3600) == 0  # too young to be called lost
    assert requeue_stored(older_than_seconds=0) == 1  # the beat task, run now: the real worker takes it
    wait_until(lambda: inbound(inbound_id).status == "processed", what="the worker to process the message")
    mail = smtp_server.wait_for(1, timeout=30)
    case = cases_of(inbound_id)[0]
    assert len(mail) == 1 and case.number in str(mail[0]["Subject"])
    assert requeue_stored(older_than_seconds=0) == 0  # nothing is left to requeue, nothing is doubled
    assert len(cases_of(inbound_id)) == 1


def test_the_same_message_queued_many_times_to_concurrent_workers_opens_each_case_once(
    db: str, testorg: int, concurrent_worker, not_eager: None  # type: ignore[no-untyped-def]
) -> None:
    from dsar.clock import SystemClock
    from dsar.db import session_scope
    from dsar.intake import service
    from tasks.intake import process_inbound

    ids = []
    for i in range(12):
        raw = message(message_id=f"<race-{i}@example.com>", sender=f"user{i}@example.com",
                      body="제 개인정보를 열람하고, 필요 없는 정보는 삭제해 주세요.")
        with session_scope() as s:
            row, _ = service.store(s, raw, source="test", clock=SystemClock())
        ids.append(row.id or 0)
    for inbound_id in ids:  # each one three times in a row: the two worker processes take copies at once
        for _ in range(3):
            process_inbound.delay(inbound_id)
    wait_until(lambda: all(inbound(i).status == "processed" for i in ids), timeout=90, what="all processed")
    for inbound_id in ids:
        assert sorted(c.right or "" for c in cases_of(inbound_id)) == ["삭제", "열람"]
    assert len(all_cases()) == 24
