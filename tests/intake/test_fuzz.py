"""parse_message never raises: arbitrary bytes and damaged copies of the corpus."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsar.intake.classify import classify
from dsar.intake.parse import PROBLEM_CODES, ParsedMessage, parse_message

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
