"""The wire form of a notice e-mail (`dsar.mail.build_message`): what any mail reader parses back."""

from email import message_from_bytes, policy

import pytest

from dsar.mail import build_message

SUBJECT = ("[DSAR-2026-000123] 개인정보 열람 요구를 접수했습니다: 처리 기한은 2026년 12월 3일이며 "
           "담당자가 곧 연락드립니다")  # longer than a line: folded into several encoded words
TEXT = "홍길동 님,\n\n개인정보 열람 요구를 접수했습니다.\n처리 기한: 2026년 12월 3일\n" * 20
HTML = "<p>홍길동 님,</p><p>개인정보 열람 요구를 접수했습니다.</p>\n" * 20


@pytest.fixture(autouse=True)
def _sender(monkeypatch: pytest.MonkeyPatch) -> None:
    from dsar.settings import get_settings

    monkeypatch.setenv("DSAR_MAIL_FROM", "privacy@dsar.example")
    get_settings.cache_clear()


def test_a_notice_parses_back_to_what_was_written() -> None:
    out = build_message(to="hong@example.com", subject=SUBJECT, text=TEXT, html=HTML,
                        message_id="<DSAR-2026-000123.acknowledgement.1@dsar.example>",
                        sender_name="알서포트 개인정보 보호 담당", in_reply_to="<abc@mail.example.com>")
    assert (out.sender, out.to) == ("privacy@dsar.example", "hong@example.com")
    mail = message_from_bytes(out.data, policy=policy.default)
    assert mail["Subject"] == SUBJECT
    assert mail["From"].addresses[0].display_name == "알서포트 개인정보 보호 담당"
    assert mail["From"].addresses[0].addr_spec == "privacy@dsar.example"
    assert mail["To"] == "hong@example.com"
    assert mail["Message-ID"] == "<DSAR-2026-000123.acknowledgement.1@dsar.example>"
    assert mail["In-Reply-To"] == mail["References"] == "<abc@mail.example.com>"
    assert mail.get_content_type() == "multipart/alternative" and not mail.defects
    assert mail.get_body(("plain",)).get_content() == TEXT
    assert mail.get_body(("html",)).get_content() == HTML
    lines = out.data.split(b"\r\n")
    assert b"\n" not in b"".join(lines) and max(len(line) for line in lines) <= 998  # CRLF only; RFC 5322 limit
    assert all(line.isascii() for line in lines)  # headers encoded (RFC 2047), bodies in base64


def test_a_text_only_notice_is_one_part() -> None:
    out = build_message(to="hong@example.com", subject="접수 확인", text="본문입니다.\n", html=None,
                        message_id="<n1@dsar.example>", sender_name="개인정보 보호 담당")
    mail = message_from_bytes(out.data, policy=policy.default)
    assert mail.get_content_type() == "text/plain" and mail.get_content() == "본문입니다.\n"


def test_a_line_break_in_a_header_value_cannot_add_a_header() -> None:
    out = build_message(to="hong@example.com\r\nBcc: everyone@evil.example", subject="접수\nBcc: x@evil.example",
                        text="본문", html=None, message_id="<n2@dsar.example>", sender_name="담당\r\nX-Evil: 1")
    mail = message_from_bytes(out.data, policy=policy.default)
    assert mail["Bcc"] is None and mail["X-Evil"] is None
    assert "\r" not in out.to and "\n" not in out.to  # nor to the envelope
