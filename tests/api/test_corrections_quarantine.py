"""Quarantined messages in the review list: listed and shown with their reason, processed again after a fix
(audited, the answer says why when quarantined again), and opened as cases when the sender can be read; a
message without a readable sender is refused with a pointer to staff entry."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import col, select

from tests.api.conftest import ROOT, World
from tests.api.test_attachments import ingest, request_mail
from tests.api.test_auth import csrf_of, events, sign_in
from tests.api.test_corrections import SPAM, corrected_events

CUT = (ROOT / "tests" / "data" / "emails" / "p03-truncated-multipart.eml").read_bytes().replace(
    b"To: sec_tech@rsupport.com", b"To: privacy@testorg.example")  # truncated MIME, sender readable
CUT_NO_SENDER = b"\n".join(line for line in CUT.split(b"\n") if not line.startswith(b"From:")).replace(
    b"cut-p03@", b"cut-nosender@")


def status_of(inbound_id: int) -> tuple[str, str | None]:
    from dsar.db import session_scope
    from dsar.models import InboundMessage

    with session_scope() as s:
        m = s.get(InboundMessage, inbound_id)
        assert m is not None
        return m.status, m.problem_code


def cases_of(inbound_id: int) -> list[str]:
    from dsar.db import session_scope
    from dsar.models import Request

    with session_scope() as s:
        return [c.number or "" for c in s.exec(select(Request).where(Request.inbound_id == inbound_id)
                                                .order_by(col(Request.id)))]


@pytest.fixture
def cut(world: World) -> int:
    inbound_id, cases = ingest(CUT)
    assert cases == [] and status_of(inbound_id) == ("quarantined", "truncated_mime")
    return inbound_id


@pytest.fixture
def cut_no_sender(world: World) -> int:
    inbound_id, cases = ingest(CUT_NO_SENDER)
    assert cases == [] and status_of(inbound_id)[0] == "quarantined"
    return inbound_id


@pytest.fixture
def held(world: World) -> int:
    inbound_id, cases = ingest(request_mail(subject="문의", body=SPAM, date="Fri, 20 Nov 2026 09:00:00 +0900"))
    assert cases == []
    return inbound_id


def test_the_review_list_holds_quarantined_messages_with_their_reason(
    client: httpx.Client, world: World, held: int, cut: int
) -> None:
    admin = world.auth("admin")
    both = client.get("/api/messages", headers=admin).json()
    assert [(m["inbound_id"], m["status"]) for m in both["items"]] == [(cut, "quarantined"), (held, "not_a_request")]
    assert both["total"] == 2 and "eunho" not in str(both) and "minji" not in str(both)
    [q] = client.get("/api/messages?status=quarantined", headers=admin).json()["items"]
    assert q["problem_code"] == "truncated_mime" and "메일이 중간에 잘렸습니다" in q["problem_message"]
    [n] = client.get("/api/messages?status=not_a_request", headers=admin).json()["items"]
    assert n["inbound_id"] == held and n["problem_code"] is None and n["subject"] == "문의"
    bad = client.get("/api/messages?status=processed", headers=admin)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
    one = client.get(f"/api/messages/{cut}", headers=admin).json()
    assert one["status"] == "quarantined" and one["problem_code"] == "truncated_mime"
    assert one["sender"] == "eunho.ma@example.com" and "열람을 요청합니다" in one["text"]
    assert one["org"] == {"slug": "testorg", "name": "테스트주식회사"}
    for who in ("officer", "handler", "auditor"):
        assert client.get("/api/messages?status=quarantined", headers=world.auth(who)).status_code == 403, who
        assert client.get(f"/api/messages/{cut}", headers=world.auth(who)).status_code == 403, who
    assert [e["details"] for e in events("inbound.viewed")] == [{"inbound_id": cut, "via": "token"}]


def test_a_quarantined_message_with_a_sender_opens_cases_from_its_receipt(
    client: httpx.Client, world: World, cut: int
) -> None:
    made = client.post(f"/api/messages/{cut}/cases", json={"rights": ["열람"]}, headers=world.auth("admin"))
    assert made.status_code == 201, made.text
    [case] = made.json()["cases"]
    assert case["due_date"] == "2026-12-03"  # sent Monday 2026-11-23 12:00 KST: 10 days
    detail = client.get(f"/api/cases/{case['number']}", headers=world.auth("officer")).json()
    assert detail["requester"]["email"] == detail["message"]["sender"] == "eunho.ma@example.com"
    assert datetime.fromisoformat(detail["received_at"]) == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    notices = client.get(f"/api/cases/{case['number']}/notices", headers=world.auth("officer")).json()["items"]
    assert [n["kind"] for n in notices] == ["acknowledgement"]
    [event] = corrected_events()
    assert event["details"]["before"] == {"inbound_id": cut, "status": "quarantined", "problem_code": "truncated_mime"}
    assert event["details"]["after"]["status"] == "processed" and "eunho" not in str(event["details"])
    assert status_of(cut) == ("processed", None)
    assert client.get("/api/messages", headers=world.auth("admin")).json()["total"] == 0


def test_a_quarantined_message_without_a_sender_points_to_staff_entry(
    client: httpx.Client, world: World, cut_no_sender: int
) -> None:
    refused = client.post(f"/api/messages/{cut_no_sender}/cases", json={"rights": ["열람"]},
                          headers=world.auth("admin"))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_input"
    message = refused.json()["error"]["message"]
    assert "보낸 사람 주소를 읽을 수 없어" in message and "직원 접수" in message and "POST /intake/staff" in message
    assert cases_of(cut_no_sender) == [] and corrected_events() == []
    assert status_of(cut_no_sender)[0] == "quarantined"


def test_reprocessing_a_message_still_broken_says_why(client: httpx.Client, world: World, cut: int) -> None:
    for who in ("officer", "handler", "auditor"):
        assert client.post(f"/api/messages/{cut}/reprocess", headers=world.auth(who)).status_code == 403, who
    again = client.post(f"/api/messages/{cut}/reprocess", headers=world.auth("admin"))
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["status"] == "quarantined" and body["cases"] == []
    assert body["problem"]["code"] == "truncated_mime" and "메일이 중간에 잘렸습니다" in body["problem"]["message"]
    assert [e["details"] for e in events("inbound.reprocessed")] == [{
        "inbound_id": cut, "before": {"status": "quarantined", "problem_code": "truncated_mime"},
        "after": {"status": "quarantined", "problem_code": "truncated_mime", "cases": []}}]
    assert events("inbound.reprocessed")[0]["actor"] == "staff:admin@dsar.test"
    assert status_of(cut) == ("quarantined", "truncated_mime")


def test_only_quarantined_messages_are_reprocessed(client: httpx.Client, world: World, held: int) -> None:
    refused = client.post(f"/api/messages/{held}/reprocess", headers=world.auth("admin"))
    assert refused.status_code == 409 and "격리된 상태가 아니어서" in refused.json()["error"]["message"]
    assert client.post("/api/messages/999999/reprocess", headers=world.auth("admin")).status_code == 404
    assert status_of(held) == ("not_a_request", None) and events("inbound.reprocessed") == []


@pytest.fixture
def broken_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """testorg's own acknowledgement template with a mistake (a field the context does not have), as an operator
    might write it: rendering the acknowledgement fails, so processing a request for testorg raises. Delete the
    returned folder to fix it."""
    from dsar.settings import get_settings

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    override = templates / "orgs" / "testorg"
    (override / "email").mkdir(parents=True)
    for ext in ("txt", "html"):
        (override / "email" / f"acknowledgement.{ext}.j2").write_text("{{ case.no_such_field }}", encoding="utf-8")
    monkeypatch.setenv("DSAR_TEMPLATES_DIR", str(templates))
    get_settings.cache_clear()
    yield override
    get_settings.cache_clear()


def test_a_message_that_failed_processing_opens_its_case_once_reprocessed_after_the_fix(
    client: httpx.Client, world: World, broken_templates: Path, smtp_server: object
) -> None:
    from dsar.clock import FixedClock
    from dsar.db import session_scope
    from dsar.intake import service
    from tasks.intake import _process_alone
    from tests.api.conftest import NOW

    with session_scope() as s:
        inbound_id = service.store(s, request_mail(), source="test", clock=FixedClock(NOW))[0].id or 0
    assert _process_alone(inbound_id) == []  # the worker's path: processing raised, the message is quarantined
    assert status_of(inbound_id) == ("quarantined", "processing_failed")

    failed = client.post(f"/api/messages/{inbound_id}/reprocess", headers=world.auth("admin")).json()
    assert failed["status"] == "quarantined" and failed["problem"]["code"] == "processing_failed"
    assert "InvalidInput" in failed["problem"]["message"] and "다시 처리하세요" in failed["problem"]["message"]
    assert cases_of(inbound_id) == []  # nothing the failed run did half-way was kept, its audit events neither
    assert len(events("request.opened")) == len(world.cases)

    shutil.rmtree(broken_templates)  # the fix
    done = client.post(f"/api/messages/{inbound_id}/reprocess", headers=world.auth("admin")).json()
    assert done["status"] == "processed" and done["problem"] is None and done["due"] == "2026-12-03"
    assert cases_of(inbound_id) == done["cases"] and len(done["cases"]) == 1
    assert len(events("request.opened")) == len(world.cases) + 1
    [mail] = smtp_server.wait_for(1)  # type: ignore[attr-defined]
    assert mail["To"] == "minji@example.com" and done["cases"][0] in str(mail["Subject"])
    assert [(e["details"]["before"], e["details"]["after"]) for e in events("inbound.reprocessed")] == [
        ({"status": "quarantined", "problem_code": "processing_failed"},
         {"status": "quarantined", "problem_code": "processing_failed", "cases": []}),
        ({"status": "quarantined", "problem_code": "processing_failed"},
         {"status": "processed", "problem_code": None, "cases": done["cases"]}),
    ]
    assert client.post(f"/api/messages/{inbound_id}/reprocess", headers=world.auth("admin")).status_code == 404


def test_console_lists_filters_and_reprocesses_quarantined_messages(
    client: httpx.Client, world: World, held: int, cut: int, cut_no_sender: int
) -> None:
    sign_in(client, "officer@testorg.example")
    assert client.get("/messages?status=quarantined").status_code == 403
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/queue"))})
    sign_in(client, "admin@dsar.test")
    listing = client.get("/messages").text
    assert f'data-message="{cut}" data-status="quarantined"' in listing and f'data-message="{held}"' in listing
    assert "truncated_mime" in listing and "메일이 중간에 잘렸습니다" in listing and "eunho" not in listing
    only = client.get("/messages?status=quarantined").text
    assert f'data-message="{held}"' not in only and f'data-message="{cut}"' in only
    assert client.get("/messages?status=nonsense").status_code == 422

    page = client.get(f"/messages/{cut}")
    assert "격리 사유" in page.text and "메일이 중간에 잘렸습니다" in page.text
    assert f'action="/messages/{cut}/reprocess"' in page.text and f'action="/messages/{cut}/cases"' in page.text
    token = csrf_of(page)
    assert client.post(f"/messages/{cut}/reprocess", data={}).status_code == 403  # no CSRF token
    again = client.post(f"/messages/{cut}/reprocess", data={"csrf_token": token})
    assert again.status_code == 303 and again.headers["location"] == f"/messages/{cut}"
    assert "다시 처리했지만 또 격리되었습니다" in client.get(again.headers["location"]).text

    blind = client.get(f"/messages/{cut_no_sender}").text
    assert f'action="/messages/{cut_no_sender}/cases"' not in blind and "직원 접수" in blind
    refused = client.post(f"/messages/{cut_no_sender}/cases", data={"csrf_token": token, "rights": "열람"})
    assert "보낸 사람 주소를 읽을 수 없어" in client.get(refused.headers["location"]).text

    made = client.post(f"/messages/{cut}/cases", data={"csrf_token": token, "rights": "열람", "agent_kind": ""})
    assert made.status_code == 303 and made.headers["location"].startswith("/cases/DSAR-2026-")
    case_page = client.get(made.headers["location"]).text
    assert "사건을 열었습니다" in case_page and "격리 → 열람 요구로 사건 열기" in case_page  # not "요구 아님"
    assert len(events("inbound.reprocessed")) == 1 and len(corrected_events()) == 1
