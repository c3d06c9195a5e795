"""Notices through the API: list, preview and download (each an audited access), approve a draft, send."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import col, select

from tests.api.conftest import World, advance
from tests.api.test_cases import audit_actions


def notices(client: httpx.Client, w: World, number: str, who: str = "officer") -> list[dict]:
    response = client.get(f"/api/cases/{number}/notices", headers=w.auth(who))
    assert response.status_code == 200
    return response.json()["items"]


def test_preview_is_the_stored_html_without_scripts_and_is_audited(client: httpx.Client, world: World) -> None:
    number = world.cases["mine"]
    [ack] = notices(client, world, number)
    assert (ack["kind"], ack["status"]) == ("acknowledgement", "queued")
    assert ack["title"] == "개인정보 관련 요구 접수 확인"
    response = client.get(f"/api/cases/{number}/notices/{ack['id']}/preview", headers=world.auth("handler2"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert number in response.text and "김민지" in response.text
    assert audit_actions(number)[-1] == ("notice.previewed", "staff:second@testorg.example")


@pytest.mark.parametrize("fmt, media, marker", [("html", "text/html", b"<html"), ("txt", "text/plain", "접수".encode()),
                                                ("pdf", "application/pdf", b"%PDF-")])
def test_download_in_each_format_is_audited(
    client: httpx.Client, world: World, fmt: str, media: str, marker: bytes
) -> None:
    number = world.cases["mine"]
    [ack] = notices(client, world, number)
    response = client.get(f"/api/cases/{number}/notices/{ack['id']}/download?format={fmt}",
                          headers=world.auth("auditor"))
    if fmt == "pdf" and response.status_code == 503:
        pytest.skip("WeasyPrint or its system libraries are not installed: " + response.json()["error"]["message"])
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    assert marker in response.content[:4000]
    assert f'filename="{number}-01-acknowledgement.{fmt}"' in response.headers["content-disposition"]
    from dsar.db import session_scope
    from dsar.models import AuditEvent

    with session_scope() as s:
        last = s.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc())).first()
        assert last is not None and last.action == "notice.downloaded" and last.details["format"] == fmt


def test_a_notice_of_another_case_is_not_found(client: httpx.Client, world: World) -> None:
    [ack] = notices(client, world, world.cases["mine"])
    response = client.get(f"/api/cases/{world.cases['theirs']}/notices/{ack['id']}/preview",
                          headers=world.auth("officer"))
    assert response.status_code == 404


def test_officer_approves_a_draft_and_the_outbox_sends_it(
    client: httpx.Client, world: World, smtp_server: object
) -> None:
    number = world.cases["mine"]
    advance(number, "start_verification", "verify")
    made = client.post(f"/api/cases/{number}/transitions", headers=world.auth("handler"),
                       json={"name": "postpone", "reason": "요청하신 기록을 다른 사람의 정보와 분리하는 중입니다"})
    draft = made.json()["notices"][0]
    assert draft["status"] == "draft" and draft["requires_approval"]
    refused = client.post(f"/api/cases/{number}/notices/{draft['id']}/send", headers=world.auth("handler"))
    assert refused.status_code == 409 and "승인" in refused.json()["error"]["message"]
    assert client.post(f"/api/cases/{number}/notices/{draft['id']}/approve",
                       headers=world.auth("handler")).status_code == 403
    approved = client.post(f"/api/cases/{number}/notices/{draft['id']}/approve", headers=world.auth("officer"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "sent" and approved.json()["approved_by"] == "김보호 <officer@testorg.example>"
    [mail] = smtp_server.wait_for(1)  # type: ignore[attr-defined]
    assert mail["To"] == "minji@example.com" and "연기" in str(mail["Subject"])
    again = client.post(f"/api/cases/{number}/notices/{draft['id']}/approve", headers=world.auth("officer"))
    assert again.status_code == 409
    actions = [a for a, _ in audit_actions(number)]
    assert actions.index("notice.approved") < actions.index("notice.sent")


def test_send_delivers_a_queued_notice_once(client: httpx.Client, world: World, smtp_server: object) -> None:
    number = world.cases["mine"]
    [ack] = notices(client, world, number)
    sent = client.post(f"/api/cases/{number}/notices/{ack['id']}/send", headers=world.auth("handler"))
    assert sent.status_code == 200 and sent.json()["status"] == "sent" and sent.json()["sent_at"]
    assert len(smtp_server.wait_for(1)) == 1  # type: ignore[attr-defined]
    twice = client.post(f"/api/cases/{number}/notices/{ack['id']}/send", headers=world.auth("handler"))
    assert twice.status_code == 409
    assert len(smtp_server.messages) == 1  # type: ignore[attr-defined]


def test_failed_delivery_is_kept_on_the_notice(client: httpx.Client, world: World) -> None:
    """Without an SMTP server (the suite points at port 1), the notice is marked failed with the reason."""
    number = world.cases["mine"]
    [ack] = notices(client, world, number)
    response = client.post(f"/api/cases/{number}/notices/{ack['id']}/send", headers=world.auth("officer"))
    assert response.status_code == 200
    assert response.json()["status"] == "failed" and "SMTP" in response.json()["last_error"]


def test_transition_can_leave_the_notice_in_the_outbox(client: httpx.Client, world: World,
                                                       smtp_server: object) -> None:
    number = world.cases["mine"]
    advance(number, "start_verification", "verify")
    made = client.post(f"/api/cases/{number}/transitions", headers=world.auth("handler"),
                       json={"name": "approve", "deliver": False})
    assert [(n["kind"], n["status"]) for n in made.json()["notices"]] == [("access_notice", "queued")]
    assert smtp_server.messages == []  # type: ignore[attr-defined]
