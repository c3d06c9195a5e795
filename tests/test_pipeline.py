"""A request through the real parts: stored, queued on Redis, processed by a real Celery worker process,
acknowledged over SMTP to a real server on loopback."""

from __future__ import annotations

import time

from sqlmodel import select

from dsar.clock import SystemClock
from dsar.db import session_scope
from dsar.intake import service
from dsar.models import Notice, Request

MESSAGE = """\
From: =?UTF-8?B?6rmA66+87KeA?= <minji.kim@example.com>
To: privacy@testorg.example
Subject: =?UTF-8?B?6rCc7J247KCV67O0IOyXtOuejCDsmpTssq0=?=
Message-ID: <pipeline-1@example.com>
Date: Mon, 16 Nov 2026 10:15:00 +0900
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

안녕하세요. 귀사가 보유하고 있는 제 개인정보를 열람하고 싶습니다.
김민지 드림
""".encode()


def test_request_runs_through_a_real_worker_to_an_acknowledgement_by_smtp(
    db: str, smtp_server, testorg: int, celery_worker_process, not_eager: None  # type: ignore[no-untyped-def]
) -> None:
    from tasks.intake import process_inbound

    with session_scope() as session:
        inbound, created = service.store(session, MESSAGE, source="webhook", clock=SystemClock())
    assert created
    process_inbound.delay(inbound.id)

    mail = smtp_server.wait_for(1, timeout=30)
    assert len(mail) == 1, "the worker should have sent the 접수 확인"
    with session_scope() as session:
        case = session.exec(select(Request).where(Request.inbound_id == inbound.id)).one()
        assert case.right == "열람" and case.stage == "received"
        assert case.due_date is not None and case.due_date.isoformat() == "2026-11-26"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ack = session.exec(select(Notice).where(Notice.request_id == case.id)).one()
            session.refresh(ack)
            if ack.status == "sent":
                break
            time.sleep(0.1)
        assert ack.kind == "acknowledgement" and ack.status == "sent"
    message = mail[0]
    assert message["To"] == "minji.kim@example.com"
    assert case.number in str(message["Subject"])
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert case.number in body and "2026년 11월 26일" in body
