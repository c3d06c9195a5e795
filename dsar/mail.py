"""Outgoing mail behind a transport interface: SMTP in production and tests, a folder of .eml files for demos."""

from __future__ import annotations

import secrets
import smtplib
from collections.abc import Iterator
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Protocol

from dsar.errors import ServiceUnavailable
from dsar.settings import get_settings


class DeliveryFailed(ServiceUnavailable):
    code = "delivery_failed"


class Transport(Protocol):
    def send(self, message: Message) -> None: ...

    def send_each(self, messages: list[Message]) -> Iterator[DeliveryFailed | None]:
        """Send the messages one after another over one connection, yielding after each what became of it
        (None: it went), so the caller can record it before the next goes and one bad address fails only itself."""
        ...


class SmtpTransport:
    def __init__(self, host: str, port: int, *, user: str = "", password: str = "", starttls: bool = False) -> None:
        self.host, self.port, self.user, self.password, self.starttls = host, port, user, password, starttls

    def send(self, message: Message) -> None:
        failure = next(self.send_each([message]))
        if failure is not None:
            raise failure

    def send_each(self, messages: list[Message]) -> Iterator[DeliveryFailed | None]:
        """One connection for all of them; a message the server refuses fails alone, a lost connection fails
        what was not yet sent."""
        done = 0
        try:
            with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                for message in messages:
                    try:
                        smtp.send_message(message)
                        failure = None
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                        failure = self._failed(exc)
                    done += 1
                    yield failure
        except (OSError, smtplib.SMTPException) as exc:
            for _ in range(len(messages) - done):
                yield self._failed(exc)

    def _failed(self, exc: Exception) -> DeliveryFailed:
        failure = DeliveryFailed(f"SMTP {self.host}:{self.port} 전송 실패: {type(exc).__name__}: {exc}")
        failure.__cause__ = exc
        return failure


class FileTransport:
    """Writes each message as `<message-id>.eml` into a folder: what the demo uses instead of a mail server."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, message: Message) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write(message)

    def send_each(self, messages: list[Message]) -> Iterator[DeliveryFailed | None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        for message in messages:
            self._write(message)
            yield None

    def _write(self, message: Message) -> None:
        name = str(message["Message-ID"]).strip("<>").split("@", 1)[0]
        (self.directory / f"{name}.eml").write_bytes(message.as_bytes())


def default_transport() -> Transport:
    s = get_settings()
    if s.mail_transport == "file":
        return FileTransport(s.data_dir / "outbox")
    return SmtpTransport(s.smtp_host, s.smtp_port, user=s.smtp_user, password=s.smtp_password, starttls=s.smtp_starttls)


def build_message(
    *, to: str, subject: str, text: str, html: str | None, message_id: str, sender_name: str,
    in_reply_to: str | None = None,
) -> Message:
    """A notice as a MIME message: text, and HTML as its alternative, both UTF-8 (base64); Korean headers as
    RFC 2047 encoded words. Built with the classic MIME classes, which write what they are given instead of
    re-parsing every header (a seventh of the time of `EmailMessage`, for the same bytes on the wire)."""
    body = MIMEText(text, "plain", "utf-8")
    if html:
        # a boundary that cannot occur in base64 parts ("_"), so the generator need not search them for one
        msg: Message = MIMEMultipart("alternative", boundary=f"=_dsar_{secrets.token_hex(16)}")
        msg.attach(body)
        msg.attach(MIMEText(html, "html", "utf-8"))
    else:
        msg = body
    msg["From"] = formataddr((sender_name, get_settings().mail_from), charset="utf-8")
    msg["To"] = to
    msg["Subject"] = Header(subject, "utf-8")
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    return msg
