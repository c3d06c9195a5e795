"""Outgoing mail behind a transport interface: SMTP in production and tests, a folder of .eml files for demos."""

from __future__ import annotations

import base64
import secrets
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import Protocol

from dsar.errors import ServiceUnavailable
from dsar.settings import get_settings


class DeliveryFailed(ServiceUnavailable):
    code = "delivery_failed"


class Transport(Protocol):
    def send(self, message: Outgoing) -> None: ...

    def send_each(self, messages: list[Outgoing]) -> Iterator[DeliveryFailed | None]:
        """Send the messages one after another over one connection, yielding after each what became of it
        (None: it went), so the caller can record it before the next goes and one bad address fails only itself."""
        ...


class SmtpTransport:
    def __init__(self, host: str, port: int, *, user: str = "", password: str = "", starttls: bool = False) -> None:
        self.host, self.port, self.user, self.password, self.starttls = host, port, user, password, starttls

    def send(self, message: Outgoing) -> None:
        failure = next(self.send_each([message]))
        if failure is not None:
            raise failure

    def send_each(self, messages: list[Outgoing]) -> Iterator[DeliveryFailed | None]:
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
                        # an address that is not ASCII needs the server's SMTPUTF8
                        options = [] if message.to.isascii() else ["SMTPUTF8"]
                        smtp.sendmail(message.sender, [message.to], message.data, mail_options=options)
                        failure = None
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError,
                            smtplib.SMTPNotSupportedError) as exc:
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

    def send(self, message: Outgoing) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write(message)

    def send_each(self, messages: list[Outgoing]) -> Iterator[DeliveryFailed | None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        for message in messages:
            self._write(message)
            yield None

    def _write(self, message: Outgoing) -> None:
        name = message.message_id.strip("<>").split("@", 1)[0]
        (self.directory / f"{name}.eml").write_bytes(message.data)


def default_transport() -> Transport:
    s = get_settings()
    if s.mail_transport == "file":
        return FileTransport(s.data_dir / "outbox")
    return SmtpTransport(s.smtp_host, s.smtp_port, user=s.smtp_user, password=s.smtp_password, starttls=s.smtp_starttls)


CRLF = "\r\n"


@dataclass(frozen=True)
class Outgoing:
    """A message ready for the wire: its envelope and its bytes (RFC 5322, CRLF line ends)."""

    sender: str
    to: str
    message_id: str
    data: bytes


def build_message(
    *, to: str, subject: str, text: str, html: str | None, message_id: str, sender_name: str,
    in_reply_to: str | None = None,
) -> Outgoing:
    """A notice as a MIME message: text, and HTML as its alternative, both UTF-8 (base64); Korean headers as
    RFC 2047 encoded words. Written directly: a notice always has this one shape, and the generic MIME classes
    took 0.3 ms a message to build and flatten it (a tenth of the outbox's time)."""
    sender = get_settings().mail_from
    head = [
        ("From", formataddr((_one_line(sender_name), sender), charset="utf-8")),
        ("To", _one_line(to)),
        ("Subject", Header(_one_line(subject), "utf-8", header_name="Subject").encode(linesep=CRLF)),
        ("Date", formatdate(localtime=False)),
        ("Message-ID", _one_line(message_id)),
    ]
    if in_reply_to:
        head += [("In-Reply-To", _one_line(in_reply_to)), ("References", _one_line(in_reply_to))]
    head.append(("MIME-Version", "1.0"))
    if html:
        # a boundary that cannot occur in base64 parts ("_")
        boundary = f"=_dsar_{secrets.token_hex(16)}"
        head.append(("Content-Type", f'multipart/alternative; boundary="{boundary}"'))
        delimiter = f"--{boundary}{CRLF}".encode()
        body = (delimiter + _part("plain", text) + delimiter + _part("html", html)
                + f"--{boundary}--{CRLF}".encode())
    else:
        head.append(("Content-Type", 'text/plain; charset="utf-8"'))
        head.append(("Content-Transfer-Encoding", "base64"))
        body = _base64(text)
    headers = "".join(f"{name}: {value}{CRLF}" for name, value in head)
    # UTF-8 only in an address that is not ASCII, which the transport then sends with SMTPUTF8
    return Outgoing(sender, _one_line(to), message_id, headers.encode("utf-8") + CRLF.encode() + body)


def _part(subtype: str, content: str) -> bytes:
    return (f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}Content-Transfer-Encoding: base64{CRLF}{CRLF}'
            .encode() + _base64(content))


def _base64(content: str) -> bytes:
    """UTF-8 in base64 lines of 76 characters, each ending in CRLF."""
    return base64.encodebytes(content.encode("utf-8")).replace(b"\n", b"\r\n")


def _one_line(value: str) -> str:
    """A header value never carries a line break of its own (no header can be smuggled in through one)."""
    return " ".join(value.splitlines())
