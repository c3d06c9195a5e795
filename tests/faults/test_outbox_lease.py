"""A worker that dies between claiming a notice and recording the result leaves it `sending`. Its claim is a
lease: nobody sends the notice while the lease runs (the claimant may still be at work), and once it lapses the
outbox sweep finds it and it goes out again with the same Message-ID, audited. A verification-code e-mail
interrupted that way is never sent again (the stored copy has no code in it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from dsar import notices, verification
from dsar.clock import FixedClock
from dsar.db import session_scope
from dsar.mail import Outgoing, SmtpTransport
from dsar.models import AuditEvent, Notice, Request
from tests.test_assignment import open_case

pytestmark = pytest.mark.faults
CLAIMED = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class DiesMidSend:
    """The worker process is killed while talking to the mail server: nothing after the claim runs."""

    def send(self, message: Outgoing) -> None:
        raise SystemExit(-9)

    def send_each(self, messages: list[Outgoing]) -> Iterator[None]:
        raise SystemExit(-9)
        yield None  # a generator, like the real transports


def _notice(notice_id: int) -> Notice:
    with session_scope() as s:
        notice = s.get(Notice, notice_id)
        assert notice is not None
        return notice


def _deliver(notice_id: int, transport: object, at: datetime) -> None:
    with session_scope() as s:
        notices.deliver(s, notice_id, transport, clock=FixedClock(at))  # type: ignore[arg-type]


def test_a_claim_left_by_a_dead_worker_is_sent_again_once_its_lease_lapses(testorg: int, smtp_server) -> None:  # type: ignore[no-untyped-def]
    case_id = open_case(testorg, clock=FixedClock(CLAIMED))
    with session_scope() as s:
        ack_id = s.exec(select(Notice.id).where(Notice.request_id == case_id)).one()
    with pytest.raises(SystemExit):
        _deliver(ack_id, DiesMidSend(), CLAIMED)
    assert _notice(ack_id).status == "sending"

    smtp = SmtpTransport("127.0.0.1", smtp_server.port)
    live = CLAIMED + notices.LEASE - timedelta(seconds=1)
    with session_scope() as s:
        assert ack_id not in notices.pending_ids(s, lapsed_before=live - notices.LEASE)
    _deliver(ack_id, smtp, live)  # a redelivered task while the claim may still be live: nothing is sent
    assert _notice(ack_id).status == "sending" and smtp_server.messages == []

    lapsed = CLAIMED + notices.LEASE + timedelta(seconds=1)
    with session_scope() as s:
        assert ack_id in notices.pending_ids(s, created_before=CLAIMED, lapsed_before=lapsed - notices.LEASE)
    _deliver(ack_id, smtp, lapsed)
    _deliver(ack_id, smtp, lapsed + notices.LEASE * 2)  # sent is final: no lease makes it go out again
    sent = _notice(ack_id)
    assert sent.status == "sent" and sent.attempts == 2 and sent.sent_at == lapsed
    mail = smtp_server.wait_for(1)
    assert [m["Message-ID"] for m in mail] == [sent.message_id]
    with session_scope() as s:
        actions = list(s.exec(select(AuditEvent.action).where(AuditEvent.request_id == case_id)
                              .order_by(col(AuditEvent.id))))
    assert actions[-2:] == ["notice.reclaimed", "notice.sent"]


def test_an_interrupted_verification_code_email_is_never_sent_again(testorg: int, smtp_server) -> None:  # type: ignore[no-untyped-def]
    case_id = open_case(testorg, clock=FixedClock(CLAIMED))
    with session_scope() as s, pytest.raises(SystemExit):
        verification.send_code(s, s.get(Request, case_id), method="email_code", actor="requester",  # type: ignore[arg-type]
                               clock=FixedClock(CLAIMED), mail=DiesMidSend())
    with session_scope() as s:
        code_mail = s.exec(select(Notice).where(Notice.kind == "verification_request")).one()
        far = CLAIMED + notices.LEASE * 100
        assert code_mail.status == "sending" and code_mail.id not in notices.pending_ids(s, lapsed_before=far)
    _deliver(code_mail.id or 0, SmtpTransport("127.0.0.1", smtp_server.port), far)
    assert _notice(code_mail.id or 0).status == "sending" and smtp_server.messages == []
