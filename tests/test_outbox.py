"""The outbox: a notice is sent once, a failure waits visibly and goes out later, a bounce shows on the case."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import select

from dsar import engine, notices
from dsar.clock import FixedClock, SystemClock
from dsar.db import session_scope
from dsar.intake import service
from dsar.mail import DeliveryFailed, SmtpTransport
from dsar.models import Notice, Organisation

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _case_with_ack(org_id: int) -> Notice:
    with session_scope() as s:
        case = engine.open_case(s, org=s.get(Organisation, org_id), right="열람", received_at=AT, actor="t",
                                clock=FixedClock(AT), requester_email="minji@example.com")
        return s.exec(select(Notice).where(Notice.request_id == case.id)).one()


def test_a_notice_is_delivered_once_however_often_delivery_runs(testorg: int, smtp_server) -> None:  # type: ignore[no-untyped-def]
    ack = _case_with_ack(testorg)
    transport = SmtpTransport("127.0.0.1", smtp_server.port)
    for _ in range(3):
        with session_scope() as s:
            notices.deliver(s, ack.id or 0, transport)
    assert len(smtp_server.wait_for(1)) == 1
    with session_scope() as s:
        sent = s.get(Notice, ack.id)
        assert sent is not None and sent.status == "sent" and sent.attempts == 1


def test_smtp_down_leaves_the_notice_failed_and_visible_then_it_goes_out(testorg: int, smtp_server) -> None:  # type: ignore[no-untyped-def]
    ack = _case_with_ack(testorg)
    with session_scope() as s, pytest.raises(DeliveryFailed):
        notices.deliver(s, ack.id or 0, SmtpTransport("127.0.0.1", 1))  # nothing listens on port 1
    with session_scope() as s:
        failed = s.get(Notice, ack.id)
        assert failed is not None and failed.status == "failed" and "SMTP" in (failed.last_error or "")
        assert ack.id in notices.pending_ids(s)
        stored = s.connection().execute(text("SELECT last_error FROM notice WHERE id = :i"), {"i": ack.id}).scalar()
        assert "SMTP" not in stored  # the error is kept encrypted, like every column that may quote an address
    with session_scope() as s:
        notices.deliver(s, ack.id or 0, SmtpTransport("127.0.0.1", smtp_server.port))
    assert len(smtp_server.wait_for(1)) == 1


def test_a_bounce_marks_the_notice_bounced_on_its_case(testorg: int) -> None:
    ack = _case_with_ack(testorg)
    dsn = (
        "From: MAILER-DAEMON@mx.example.com\r\nTo: privacy-desk@dsar.local\r\nSubject: Undelivered Mail\r\n"
        "Message-ID: <bounce-1@mx.example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; minji@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ack.message_id}\r\nSubject: x\r\n--b--\r\n"
    ).encode()
    with session_scope() as s:
        inbound, _ = service.store(s, dsn, source="test", clock=SystemClock())
    with session_scope() as s:
        result = service.process(s, inbound.id or 0, clock=SystemClock())
        assert result.status == "bounce" and result.request_id is None
        bounced = s.get(Notice, ack.id)
        assert bounced is not None and bounced.status == "bounced" and "user unknown" in (bounced.last_error or "")
