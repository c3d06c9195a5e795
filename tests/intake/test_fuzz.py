"""The e-mail intake never raises on bad input: parse_message on arbitrary bytes, damaged copies of the corpus
and generated MIME structures; the JSON webhook shape gives a message or an IntakeError naming the field; and
storing then processing any of those messages ends in a documented status."""

from __future__ import annotations

import base64
import io
import quopri
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsar.intake.classify import classify
from dsar.intake.parse import PROBLEM_CODES, ParsedMessage, parse_message
from dsar.intake.webform import message_from_json

CORPUS = sorted((Path(__file__).resolve().parents[1] / "data" / "emails").glob("*.eml"))
SEEDS = [p.read_bytes() for p in CORPUS if p.stat().st_size < 200_000]
SPLICES = [b"\r", b"\n", b"\x00", b"=?utf-8?b?", b"--", b"\r\n\r\n", b":", b"=\r\n", b"\xed\x95",
           b"\x1b$)C\x0e", b"<", b"boundary="]
MULTIPART_HEAD = b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(pm: ParsedMessage) -> None:
    assert isinstance(pm, ParsedMessage)
    if pm.problem is not None:
        assert pm.problem.code in PROBLEM_CODES and pm.problem.message
    assert pm.date is None or pm.date.tzinfo is not None
    assert all(r == r.lower() for r in pm.recipients)
    assert "\n" not in pm.subject and "\r" not in pm.subject
    for att in pm.attachments:
        assert att.size == len(att.data) and "/" not in att.filename
    classify(pm.subject, pm.text, [a.filename for a in pm.attachments])


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    _check(parse_message(raw))


@FUZZ
@given(st.binary(max_size=512).map(lambda b: MULTIPART_HEAD + b))
def test_arbitrary_bodies_behind_valid_headers_never_raise(raw: bytes) -> None:
    _check(parse_message(raw))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(SPLICES))
        elif op == "truncate":
            del data[pos:]
        else:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 200))]
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_corpus_messages_never_raise(raw: bytes) -> None:
    _check(parse_message(raw))


# -- generated MIME structure: reaches the body walk, charsets, transfer encodings and attachments -------------

CHARSETS = ["utf-8", "euc-kr", "cp949", "ks_c_5601-1987", "iso-2022-kr", "utf-16", "us-ascii", "latin-1",
            "x-unknown", "utf-8'ko'", ""]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus"]
SYMBOLS = "개인정보열람삭제정정처리정지요청합니다주민등록번호카드 0123456789-@.<>\"'=?;:,\t\\/()[]abcXYZ\u00a0\u200b"
WORDS = st.lists(st.sampled_from([*SYMBOLS, "\r\n", "\r\n ", "\x00"]), max_size=60).map("".join)
LEAF_TYPES = ["text/plain", "text/html", "text/enriched", "application/pdf", "application/zip", "image/png",
              "message/delivery-status", "text/rfc822-headers", "application/octet-stream", "bogus"]


def _encode_body(data: bytes, cte: str) -> bytes:
    if cte == "base64":
        return base64.encodebytes(data)
    if cte == "quoted-printable":
        return quopri.encodestring(data)
    return data


@st.composite
def header_text(draw: st.DrawFn) -> str:
    """A header value as senders write them: plain, RFC 2047 encoded words (right or wrong), or raw 8-bit."""
    words = draw(WORDS).replace("\r\n", " ").replace("\x00", "")
    form = draw(st.sampled_from(["plain", "b", "q", "broken"]))
    if form == "plain":
        return words
    charset = draw(st.sampled_from(CHARSETS)) or "utf-8"
    raw = words.encode("utf-8") if form != "broken" else draw(st.binary(max_size=30))
    if form == "q":
        return f"=?{charset}?Q?{quopri.encodestring(raw, header=True).decode('ascii', 'replace')}?="
    return f"=?{charset}?B?{base64.b64encode(raw).decode('ascii')}?="


@st.composite
def mime_leaf(draw: st.DrawFn) -> bytes:
    ctype, cte = draw(st.sampled_from(LEAF_TYPES)), draw(st.sampled_from(ENCODINGS))
    charset = draw(st.sampled_from(CHARSETS))
    if draw(st.booleans()):
        data = draw(WORDS).encode(charset if charset in ("utf-8", "euc-kr", "cp949", "utf-16") else "utf-8",
                                  "replace")
    else:
        data = draw(st.binary(max_size=200))
    if ctype == "application/zip" and draw(st.booleans()):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(draw(st.sampled_from(["a.txt", "../x", "위임장.pdf", ""])) or "x", data * 50)
        data = buffer.getvalue()[: draw(st.integers(0, 4096))]
    head = f"Content-Type: {ctype}" + (f'; charset="{charset}"' if charset else "")
    if draw(st.booleans()):
        name = draw(header_text())
        head += draw(st.sampled_from([f'\r\nContent-Disposition: attachment; filename="{name}"',
                                      f"\r\nContent-Disposition: inline; filename*=utf-8''{name}",
                                      f'; name="{name}"']))
    return f"{head}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n".encode("utf-8", "replace") + _encode_body(data, cte)


def _tree(leaves: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    def multipart(children: list[bytes], subtype: str, boundary: str) -> bytes:
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + child + b"\r\n" for child in children)
        return (f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\npreamble\r\n').encode() + body + \
            b"--" + boundary.encode() + b"--\r\n"

    def forwarded(inner: bytes) -> bytes:
        return b"Content-Type: message/rfc822\r\n\r\nFrom: fwd@example.com\r\nSubject: fwd\r\n" + inner

    return st.recursive(leaves, lambda children: st.one_of(
        st.builds(multipart, st.lists(children, max_size=4),
                  st.sampled_from(["mixed", "alternative", "related", "report", "signed", "x-weird"]),
                  st.sampled_from(["b1", "b1", "=_x", "b1'", ""])),
        children.map(forwarded)), max_leaves=8)


SENDERS = ["민지 <minji@example.com>", "=?utf-8?B?7ZmN6ri464+Z?= <hong@example.com>", "x@example.com"]


@st.composite
def generated_message(draw: st.DrawFn) -> bytes:
    """Mostly well-formed headers (so the body walk is reached) over a generated MIME tree."""
    odd = draw(st.integers(0, 9)) == 0  # one in ten gets a damaged sender, date or Message-ID
    headers = [("From", draw(header_text() if odd else st.sampled_from(SENDERS))),
               ("To", draw(st.sampled_from(["privacy@testorg.example", "a@rsupport.com", "undisclosed-recipients:;"]))),
               ("Subject", draw(header_text())),
               ("Date", "yesterday" if odd else "Mon, 16 Nov 2026 10:15:00 +0900"),
               ("Message-ID", "<a@b> <c@d>" if odd else f"<gen{draw(st.integers(0, 99))}@example.com>"),
               ("MIME-Version", "1.0")]
    headers += draw(st.lists(st.tuples(st.sampled_from(["In-Reply-To", "References", "Received", "Auto-Submitted",
                                                         "Precedence", "List-Id", "X-Autoreply", "Cc"]),
                                       header_text()), max_size=3))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8", "surrogateescape")
    return head + draw(_tree(mime_leaf()))


@FUZZ
@given(generated_message())
def test_generated_mime_structures_never_raise(raw: bytes) -> None:
    _check(parse_message(raw))


# -- the JSON shape of inbound-mail services: a message, or IntakeError saying which field --------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=40) | st.sampled_from(
    ["minji@example.com", "민지 <minji@example.com>", "privacy@testorg.example", "bad@", "a@b.c\r\nBcc: x@y.z",
     "Message-ID: <x@y>\r\nX-A: 1", "aGVsbG8=", "!!!", "\ud800"])
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(["name", "value", "filename", "content_type",
                                                              "content", "Message-ID", "Received", "X-Weird"])
                                             | st.text(max_size=10), inner, max_size=3), max_leaves=8)
JSON_FIELDS = ["from", "to", "cc", "subject", "text", "html", "headers", "attachments"]


@FUZZ
@given(st.dictionaries(st.sampled_from(JSON_FIELDS) | st.text(max_size=8), JSON_VALUES, max_size=8) | JSON_VALUES)
def test_json_posts_become_a_message_or_a_clear_intake_error(data: object) -> None:
    from dsar.errors import IntakeError

    try:
        raw = message_from_json(data, received_at=datetime(2026, 11, 16, tzinfo=UTC), body_sha256="0" * 64)
    except IntakeError as exc:
        assert exc.code == "intake_invalid" and exc.context.get("reason") and exc.context.get("field")
        assert re.search("[가-힣]", exc.message), exc.message
        return
    _check(parse_message(raw))


# -- the whole intake step: store then process never raises, on SQLite with the test organisation -------------

STATUSES = {"processed", "quarantined", "not_a_request", "bounce"}


@pytest.fixture
def intake_db(sqlite_db: str) -> str:
    from dsar.db import session_scope
    from dsar.workflow.definitions import load_bases, load_organisation
    from dsar.workflow.registry import register

    resolved = load_organisation(Path(__file__).resolve().parents[1] / "data" / "workflows" / "testorg.yaml",
                                 load_bases())
    with session_scope() as session:
        register(session, resolved)
    return sqlite_db


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.one_of(mutated(), generated_message()))
def test_store_and_process_take_any_message_without_raising(intake_db: str, raw: bytes) -> None:
    from dsar.clock import SystemClock
    from dsar.db import session_scope
    from dsar.intake import service

    with session_scope() as session:
        inbound, _ = service.store(session, raw, source="fuzz", clock=SystemClock())
    with session_scope() as session:
        result = service.process(session, inbound.id or 0, clock=SystemClock())
    assert result.status in STATUSES
    assert (result.status == "quarantined") == (result.problem is not None)
    if result.problem is not None:
        assert result.problem["code"] in PROBLEM_CODES and result.problem["message"]
