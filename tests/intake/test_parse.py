"""parse_message: decoding, structure, limits and quarantine reasons (no services needed)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone

import pytest
from mailmaker import HEAD, simple, with_attachments

from dsar.intake.parse import MiB, ParseLimits, parse_message


def _zip(entries: dict[str, bytes | int]) -> bytes:
    """A deflated zip; an int value means that many zero bytes, streamed so memory stays small."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            if isinstance(content, int):
                with archive.open(name, "w", force_zip64=True) as member:
                    chunk = bytes(MiB)
                    for _ in range(content // MiB):
                        member.write(chunk)
            else:
                archive.writestr(name, content)
    return buf.getvalue()


@pytest.fixture(scope="module")
def thirty_mb_message() -> bytes:
    return with_attachments(("scan.tif", "image/tiff", bytes(30 * MiB)))


def test_a_30_mb_message_is_refused_by_size_but_sender_and_subject_are_read(thirty_mb_message: bytes) -> None:
    pm = parse_message(thirty_mb_message)
    assert pm.problem is not None and pm.problem.code == "message_too_large"
    assert "한도" in pm.problem.message
    assert pm.sender == "hong@example.com"
    assert pm.subject == "개인정보 삭제 요청"
    assert pm.attachments == [] and pm.text == ""


def test_a_30_mb_attachment_is_too_large_when_the_message_limit_allows_it(thirty_mb_message: bytes) -> None:
    pm = parse_message(thirty_mb_message, ParseLimits(max_message_bytes=64 * MiB))
    assert pm.problem is not None and pm.problem.code == "attachment_too_large"
    assert "scan.tif" in pm.problem.message
    assert pm.attachments[0].size == 30 * MiB


def test_a_zip_whose_compression_ratio_is_absurd_is_a_zip_bomb() -> None:
    pm = parse_message(with_attachments(("서류.zip", "application/zip", _zip({"zeros.bin": 20 * MiB}))))
    assert pm.problem is not None and pm.problem.code == "zip_bomb"
    assert "서류.zip" in pm.problem.message


def test_a_zip_that_declares_more_than_the_total_limit_is_a_zip_bomb() -> None:
    limits = ParseLimits(max_decompressed_bytes=8 * MiB, max_decompressed_ratio=10**9)
    pm = parse_message(with_attachments(("a.zip", "application/octet-stream", _zip({"z": 9 * MiB}))), limits)
    assert pm.problem is not None and pm.problem.code == "zip_bomb"


def test_a_bomb_hidden_inside_a_nested_zip_is_found() -> None:
    inner = _zip({"zeros.bin": 20 * MiB})
    outer = _zip({"inner.zip": inner, "readme.txt": b"hello"})
    pm = parse_message(with_attachments(("outer.zip", "application/zip", outer)))
    assert pm.problem is not None and pm.problem.code == "zip_bomb"


def test_an_ordinary_zip_and_a_broken_zip_are_accepted() -> None:
    ordinary = _zip({"위임장.pdf": b"%PDF-1.4 " + bytes(range(256)) * 8})
    broken = ("x.zip", "application/zip", b"PK")
    pm = parse_message(with_attachments(("docs.zip", "application/zip", ordinary), broken))
    assert pm.problem is None
    assert [a.filename for a in pm.attachments] == ["docs.zip", "x.zip"]
    assert any("압축" in w for w in pm.warnings)


def test_attachments_keep_bytes_size_and_sha256() -> None:
    import hashlib

    data = b"%PDF-1.4 test"
    pm = parse_message(with_attachments(("위임장.pdf", "application/pdf", data)))
    (att,) = pm.attachments
    assert (att.filename, att.content_type, att.size, att.data) == ("위임장.pdf", "application/pdf", 13, data)
    assert att.sha256 == hashlib.sha256(data).hexdigest()


def test_attachment_file_names_cannot_carry_paths_or_control_characters() -> None:
    pm = parse_message(with_attachments(("../../etc/pa\tss\\wd..", "text/plain", b"x")))
    assert pm.attachments[0].filename == "passwd"


def test_too_many_attachments_keeps_only_the_allowed_number() -> None:
    files = [(f"f{i}.txt", "text/plain", b"x") for i in range(4)]
    pm = parse_message(with_attachments(*files), ParseLimits(max_attachments=3))
    assert pm.problem is not None and pm.problem.code == "too_many_attachments"
    assert len(pm.attachments) == 3


def test_deeply_nested_multiparts_are_quarantined() -> None:
    depth = 30
    nested = "Content-Type: multipart/mixed; boundary="
    body = "".join(f"--b{i}\r\n{nested}b{i + 1}\r\n\r\n" for i in range(depth))
    body += f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    body += "".join(f"--b{i}--\r\n" for i in reversed(range(depth + 1)))
    raw = (HEAD + "Content-Type: multipart/mixed; boundary=b0\r\n\r\n" + body).encode()
    pm = parse_message(raw)
    assert pm.problem is not None and pm.problem.code == "nesting_too_deep"


def test_a_header_line_over_the_limit_is_quarantined() -> None:
    raw = simple(extra="X-Junk: " + "a" * 9000 + "\r\n")
    assert parse_message(raw).problem.code == "header_too_long"  # type: ignore[union-attr]


def test_a_bare_cr_in_the_header_block_is_header_injection() -> None:
    raw = simple(extra="X-Note: hello\rBcc: someone@evil.example\r\n")
    assert parse_message(raw).problem.code == "header_injection"  # type: ignore[union-attr]


def test_recipients_come_from_to_cc_delivered_to_and_x_original_to_in_that_order_without_duplicates() -> None:
    head = HEAD.replace("To: sec_tech@rsupport.com\r\n", "")
    extra = (
        "X-Original-To: privacy@alpaco.co.kr\r\nDelivered-To: Alpha@Alpaco.co.kr\r\n"
        "Cc: \"보안팀\" <SEC_TECH@rsupport.com>, other@example.com\r\nTo: alpha@alpaco.co.kr\r\n"
    )
    pm = parse_message(simple(head=head, extra=extra))
    assert pm.recipients == ["alpha@alpaco.co.kr", "sec_tech@rsupport.com", "other@example.com",
                             "privacy@alpaco.co.kr"]


def test_message_ids_lose_their_angle_brackets_and_references_keep_their_order() -> None:
    extra = "In-Reply-To: <b@example.com> (comment)\r\nReferences: <a@example.com>\r\n <b@example.com>\r\n"
    pm = parse_message(simple(extra=extra))
    assert (pm.message_id, pm.in_reply_to, pm.references) == ("test@example.com", "b@example.com",
                                                              ["a@example.com", "b@example.com"])


def test_the_date_is_timezone_aware_and_a_missing_zone_becomes_utc_with_a_warning() -> None:
    assert parse_message(simple()).date == datetime(2026, 11, 23, 10, 15, tzinfo=timezone(timedelta(hours=9)))
    pm = parse_message(simple(head=HEAD.replace("+0900", "-0000")))
    assert pm.date == datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
    assert pm.warnings
    pm = parse_message(simple(head=HEAD.replace("Mon, 23 Nov 2026 10:15:00 +0900", "someday")))
    assert pm.date is None and pm.problem is None and pm.warnings


def test_an_mbox_envelope_line_and_leading_blank_lines_are_skipped() -> None:
    pm = parse_message(b"\r\nFrom hong@example.com Mon Nov 23 10:15:00 2026\n" + simple())
    assert pm.problem is None and pm.sender == "hong@example.com"


def test_a_from_header_without_a_usable_address_means_no_sender() -> None:
    pm = parse_message(simple(head=HEAD.replace("<hong@example.com>", "<=?utf-8?q?x?=>")))
    assert pm.problem is not None and pm.problem.code == "no_sender"


def test_an_unknown_charset_label_falls_back_with_a_warning() -> None:
    raw = (HEAD + "Content-Type: text/plain; charset=x-bogus\r\n\r\n").encode() + "열람 요청".encode("cp949")
    pm = parse_message(raw)
    assert pm.problem is None and pm.text == "열람 요청" and pm.charset == "cp949" and pm.warnings


def test_a_legacy_label_on_utf8_bytes_is_read_as_utf8() -> None:
    raw = (HEAD + "Content-Type: text/plain; charset=euc-kr\r\n\r\n").encode() + "삭제 요청".encode()
    pm = parse_message(raw)
    assert (pm.text, pm.charset, pm.problem) == ("삭제 요청", "utf-8", None)


def test_html_only_body_becomes_readable_text() -> None:
    html = "<html><head><style>x{}</style></head><body><p>삭제&nbsp;요청</p><ul><li>하나</li></ul>"
    raw = (HEAD + "Content-Type: text/html; charset=utf-8\r\n\r\n" + html).encode()
    assert parse_message(raw).text == "삭제 요청\n\n- 하나"


def test_auto_reply_and_bulk_headers_are_reported() -> None:
    assert parse_message(simple(extra="Auto-Submitted: auto-replied\r\n")).auto_submitted is True
    assert parse_message(simple(extra="Auto-Submitted: no\r\n")).auto_submitted is False
    assert parse_message(simple(extra="List-Unsubscribe: <mailto:u@x>\r\n")).bulk is True


def test_bytearray_and_memoryview_input_are_accepted() -> None:
    raw = simple()
    assert parse_message(bytearray(raw)).sender == parse_message(memoryview(raw)).sender == "hong@example.com"  # type: ignore[arg-type]


def test_the_topmost_received_stamp_is_read_with_the_headers() -> None:
    raw = (b"Received: from mx.example.net by mail.dsar.example; Tue, 10 Nov 2026 09:00:05 +0900\r\n"
           b"Received: from laptop by mx.example.net; Tue, 10 Nov 2026 08:59:58 +0900\r\n"
           b"From: a@example.com\r\nTo: privacy@dsar.example\r\nSubject: x\r\n\r\nbody\r\n")
    assert parse_message(raw).received == datetime(2026, 11, 10, 0, 0, 5, tzinfo=UTC)
    unreadable = raw.replace(b"Tue, 10 Nov 2026 09:00:05 +0900", b"yesterday")
    assert parse_message(unreadable).received is None
