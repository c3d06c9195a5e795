"""Small helpers shared by the intake-channel tests."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlmodel import col, select

from dsar.db import session_scope
from dsar.models import InboundMessage, Notice, Request

TOKEN = "test-webhook-token-7c1f"
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reconnect_broker() -> None:
    """Drop this process's broker connections and producers, so that the next publish connects to the broker
    `app.conf` names now (Celery's `app.close()` keeps the producer pool, whose connections go to the old one)."""
    from tasks import app

    app.close()
    app.amqp._producer_pool = None


@contextmanager
def broker_unreachable() -> Iterator[None]:
    """Publishing goes to a loopback port where nothing listens: the broker is down for this process."""
    from tasks import app

    app.conf.broker_write_url = f"redis://127.0.0.1:{free_port()}/15"
    reconnect_broker()
    try:
        yield
    finally:
        app.conf.broker_write_url = None
        reconnect_broker()


def wait_until(probe: Callable[[], T], timeout: float = 30.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def inbound(inbound_id: int) -> InboundMessage:
    with session_scope() as s:
        row = s.get(InboundMessage, inbound_id)
        assert row is not None
        return row


def all_inbound() -> list[InboundMessage]:
    with session_scope() as s:
        return list(s.exec(select(InboundMessage).order_by(col(InboundMessage.id))))


def cases_of(inbound_id: int) -> list[Request]:
    with session_scope() as s:
        return list(s.exec(select(Request).where(Request.inbound_id == inbound_id).order_by(col(Request.id))))


def all_cases() -> list[Request]:
    with session_scope() as s:
        return list(s.exec(select(Request).order_by(col(Request.id))))


def notices_of(request_id: int) -> list[Notice]:
    with session_scope() as s:
        return list(s.exec(select(Notice).where(Notice.request_id == request_id)))


def message(*, subject: str = "개인정보 열람 요청", body: str = "제가 가입할 때 낸 개인정보를 열람하고 싶습니다.",
            sender: str = "민지 <minji.kim@example.com>", to: str = "privacy@testorg.example",
            message_id: str | None = "<req-1@example.com>", extra: str = "") -> bytes:
    """A small UTF-8 request e-mail (raw RFC 5322 bytes, CRLF)."""
    from email.header import Header

    name, _, address = sender.rpartition(" ")
    shown = f"{Header(name, 'utf-8').encode()} {address}" if name and not name.isascii() else sender
    head = [f"From: {shown}",
            f"To: {to}", f"Subject: {Header(subject, 'utf-8').encode()}", "Date: Mon, 16 Nov 2026 10:15:00 +0900"]
    if message_id:
        head.append(f"Message-ID: {message_id}")
    head += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
    return ("\r\n".join(head) + "\r\n" + extra + "\r\n" + body + "\r\n").encode("utf-8")
