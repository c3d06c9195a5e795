"""Downloading a case's attachments: the bytes as they arrived, a safe Content-Disposition (Korean names kept),
scripts never run in the browser, the detail's visibility rules, and every download audited without the name."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote

import httpx
import pytest
from sqlmodel import col, select

from dsar.api.attachments import content_disposition, media_type
from tests.api.conftest import NOW, World
from tests.api.test_auth import sign_in

PDF = "%PDF-1.4\n% 위임장 scan\n".encode() + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(300)
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def request_mail(
    *, body: str = "제 개인정보 열람을 요청합니다.", subject: str = "개인정보 열람 요청",
    files: tuple[tuple[str, str, bytes], ...] = (), date: str = "Mon, 23 Nov 2026 10:15:00 +0900",
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "김민지 <minji@example.com>"
    msg["To"] = "privacy@testorg.example"
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg.set_content(body)
    for name, ctype, data in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def ingest(raw: bytes) -> tuple[int, list[str]]:
    """Store and process a message as intake does, at the tests' fixed time; (inbound id, case numbers)."""
    from dsar.clock import FixedClock
    from dsar.db import session_scope
    from dsar.intake import service

    with session_scope() as s:
        inbound, _ = service.store(s, raw, source="test", clock=FixedClock(NOW))
        inbound_id = inbound.id or 0
    with session_scope() as s:
        return inbound_id, service.process(s, inbound_id, clock=FixedClock(NOW)).cases


@pytest.fixture
def mailed(world: World) -> str:
    """A case opened from a mail carrying a Korean-named PDF, a photo and an HTML file."""
    _, cases = ingest(request_mail(files=(("위임장 사본.pdf", "application/pdf", PDF), ("id.jpg", "image/jpeg", JPEG),
                                          ("page.html", "text/html", HTML))))
    assert len(cases) == 1
    return cases[0]


def downloads() -> list[dict]:
    from dsar.db import session_scope
    from dsar.models import AuditEvent

    with session_scope() as s:
        return [{"actor": e.actor, "details": e.details, "request_id": e.request_id} for e in s.exec(
            select(AuditEvent).where(AuditEvent.action == "attachment.downloaded").order_by(col(AuditEvent.id)))]


def test_case_detail_lists_attachments_with_index_size_hash_and_address(
    client: httpx.Client, world: World, mailed: str
) -> None:
    listed = client.get(f"/api/cases/{mailed}", headers=world.auth("officer")).json()["message"]["attachments"]
    assert [(a["index"], a["filename"], a["content_type"], a["size"]) for a in listed] == [
        (0, "위임장 사본.pdf", "application/pdf", len(PDF)), (1, "id.jpg", "image/jpeg", len(JPEG)),
        (2, "page.html", "text/html", len(HTML))]
    assert listed[0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert [a["url"] for a in listed] == [f"/api/cases/{mailed}/attachments/{i}" for i in range(3)]


def test_a_korean_named_pdf_downloads_byte_for_byte_with_its_name_and_is_audited(
    client: httpx.Client, world: World, mailed: str
) -> None:
    response = client.get(f"/api/cases/{mailed}/attachments/0", headers=world.auth("handler"))
    assert response.status_code == 200 and response.content == PDF
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="attachment-1.pdf"; ')
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == "위임장 사본.pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    [event] = downloads()
    assert event["actor"] == "staff:desk@testorg.example"
    assert event["details"] == {"index": 0, "sha256": hashlib.sha256(PDF).hexdigest(), "size": len(PDF)}
    assert "위임장" not in str(event) and "minji" not in str(event)


def test_only_raster_images_open_in_the_browser_and_html_never_runs(
    client: httpx.Client, world: World, mailed: str
) -> None:
    photo = client.get(f"/api/cases/{mailed}/attachments/1", headers=world.auth("officer"))
    assert photo.content == JPEG and photo.headers["content-disposition"].startswith('inline; filename="id.jpg"')
    page = client.get(f"/api/cases/{mailed}/attachments/2", headers=world.auth("officer"))
    assert page.content == HTML and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-disposition"].startswith('attachment; filename="page.html"')
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "script-src" not in page.headers["content-security-policy"]  # falls back to 'none'
    assert len(downloads()) == 2


def test_unknown_index_is_a_404_json_error_and_a_negative_one_is_refused(
    client: httpx.Client, world: World, mailed: str
) -> None:
    missing = client.get(f"/api/cases/{mailed}/attachments/3", headers=world.auth("officer"))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found" and "첨부파일 #3" in missing.json()["error"]["message"]
    none = client.get(f"/api/cases/{world.cases['mine']}/attachments/0", headers=world.auth("officer"))
    assert none.status_code == 404  # a case opened without a message has no files
    assert client.get(f"/api/cases/{mailed}/attachments/-1", headers=world.auth("officer")).status_code == 422
    assert downloads() == []


def test_download_follows_the_case_detail_rules(client: httpx.Client, world: World, mailed: str) -> None:
    url = f"/api/cases/{mailed}/attachments/0"
    assert client.get(url).status_code == 401
    for who in ("other_officer", "other_handler"):
        foreign = client.get(url, headers=world.auth(who))
        assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "not_found"
    for who in ("officer", "handler", "handler2", "auditor", "admin"):  # whoever may open the case
        assert client.get(url, headers=world.auth(who)).status_code == 200, who
    assert len(downloads()) == 5


def test_console_case_page_links_each_file_and_the_cookie_downloads_it(
    client: httpx.Client, world: World, mailed: str
) -> None:
    sign_in(client, "officer@testorg.example")
    html = client.get(f"/cases/{mailed}").text
    assert f'<a href="/api/cases/{mailed}/attachments/0" data-attachment="0">위임장 사본.pdf</a>' in html
    assert f'href="/api/cases/{mailed}/attachments/2"' in html
    assert client.get(f"/api/cases/{mailed}/attachments/0").content == PDF
    assert downloads()[0]["actor"] == "staff:officer@testorg.example"


@pytest.mark.parametrize(("name", "media", "expected"), [
    ("scan.png", "image/png", "inline; filename=\"scan.png\"; filename*=UTF-8''scan.png"),
    ("../../etc/passwd", "text/plain", "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"),
    ('a"b\r\nX-Evil: 1.svg', "image/svg+xml",
     "attachment; filename=\"attachment-4.svg\"; filename*=UTF-8''a%22bX-Evil%3A%201.svg"),
    ("신분증.JPG", "image/jpeg",
     "inline; filename=\"attachment-4.JPG\"; filename*=UTF-8''%EC%8B%A0%EB%B6%84%EC%A6%9D.JPG"),
    ("..", "application/pdf", "attachment; filename=\"attachment-4\"; filename*=UTF-8''attachment-4"),
])
def test_content_disposition_is_safe_for_any_name(name: str, media: str, expected: str) -> None:
    assert content_disposition(name, 3, media) == expected


def test_a_malformed_declared_type_is_served_as_octet_stream() -> None:
    assert media_type("text/html; charset=utf-8\r\nSet-Cookie: x=1") == "application/octet-stream"
    assert media_type(" Image/PNG ") == "image/png" and media_type(None) == "application/octet-stream"
