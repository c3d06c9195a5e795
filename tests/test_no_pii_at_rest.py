"""After the whole intake corpus (stored, processed, acknowledged through a real SMTP server), a dump of the
database (pg_dump / SQLite iterdump) and every log line of the run hold no 주민등록번호 and no requester's e-mail
address in clear: the raw messages, summaries, cases and notices that carry them are encrypted at rest."""

from __future__ import annotations

import logging
import re
import sqlite3
import subprocess

import pytest
from sqlalchemy.engine import make_url

from dsar.db import session_scope
from dsar.intake.parse import parse_message
from dsar.notices import pending_ids
from tests.intake.test_corpus import CORPUS, EXPECTED
from tests.test_intake_service import _ingest, _route_corpus_addresses_to

RRN = re.compile(r"(?<![\w-])\d{6}\s?-?\s?[1-8]\d{6}(?![\w-])")
PG_HEX = re.compile(r"\\\\x([0-9a-f]+)")  # a bytea value in pg_dump's COPY text
SQLITE_HEX = re.compile(r"X'([0-9A-Fa-f]+)'")  # a BLOB in SQLite's dump


def _run_corpus(testorg: int) -> tuple[list[str], int]:
    """Every corpus message through store → process (as test_intake_service does), then the outbox; returns the
    case numbers and how many notices went out."""
    from tasks.notices import queue_delivery

    _route_corpus_addresses_to(testorg)
    results = {}
    for name in sorted(EXPECTED):
        raw = (CORPUS / name).read_bytes()
        ref, target = EXPECTED[name].get("case_ref"), EXPECTED[name].get("thread_of")
        if ref and target in results:
            raw = raw.replace(ref.encode(), (results[target].request_id or "").encode())
        results[name] = _ingest(raw)
    with session_scope() as s:
        waiting = pending_ids(s)
    queue_delivery(waiting)
    return [n for r in results.values() for n in r.cases], len(waiting)


def _dump(url: str) -> str:
    """The whole database as text, binary values decoded so that a clear message would show as text."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(parsed.database or "") as conn:
            text = "\n".join(conn.iterdump())
        return SQLITE_HEX.sub(lambda m: bytes.fromhex(m.group(1)).decode("utf-8", "replace"), text)
    text = subprocess.run(["pg_dump", "--no-owner", url], capture_output=True, text=True, check=True).stdout
    return PG_HEX.sub(lambda m: bytes.fromhex(m.group(1)).decode("utf-8", "replace"), text)


def _corpus_secrets() -> tuple[set[str], set[str]]:
    """The requesters' addresses and the 주민등록번호 (digits only) the corpus carries."""
    addresses = {exp["sender"].lower() for exp in EXPECTED.values() if exp.get("sender")}
    numbers = set()
    for name in EXPECTED:
        parsed = parse_message((CORPUS / name).read_bytes())
        numbers |= {re.sub(r"\D", "", m.group(0)) for m in RRN.finditer(f"{parsed.subject}\n{parsed.text}")}
    return addresses, numbers


def test_no_resident_number_or_requester_address_in_the_dump_or_the_logs(
    db: str, testorg: int, smtp_server, caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    addresses, numbers = _corpus_secrets()
    assert len(addresses) >= 30 and numbers  # the corpus does carry what must not leak
    caplog.set_level(logging.WARNING, logger="mail.log")  # aiosmtpd: the recipients' mail server, not ours
    caplog.set_level(logging.INFO)  # every logger, and SQLAlchemy's statements with their parameters
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    caplog.set_level(logging.DEBUG, logger="tasks")
    caplog.set_level(logging.DEBUG, logger="dsar")  # last: the capturing handler takes the last level set
    cases, sent = _run_corpus(testorg)
    assert len(cases) >= 30 and sent >= 30 and len(smtp_server.wait_for(sent)) == sent

    dump, logs = _dump(db).lower(), "\n".join(r.getMessage() for r in caplog.records).lower()
    assert all(number.lower() in dump for number in cases)  # the dump is complete: the cases are in it
    assert "insert into inboundmessage" in logs  # and the run was logged, SQL parameters included
    for where, text in (("dump", dump), ("logs", logs)):
        assert not [a for a in addresses if a in text], where
        digits_only = re.sub(r"[\s-]", "", text)
        assert not [n for n in numbers if n in digits_only], where
        assert not RRN.findall(text), where
