"""Builders for small test messages used by the intake tests (not a conftest: its name must be unique)."""

from __future__ import annotations

import base64

HEAD = (
    "From: 홍길동 <hong@example.com>\r\n"
    "To: sec_tech@rsupport.com\r\n"
    "Subject: 개인정보 삭제 요청\r\n"
    "Date: Mon, 23 Nov 2026 10:15:00 +0900\r\n"
    "Message-ID: <test@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
)


def simple(body: str = "제 개인정보를 삭제해 주세요.\r\n", *, head: str = HEAD, extra: str = "") -> bytes:
    return (head + extra + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode("utf-8")


def with_attachments(*attachments: tuple[str, str, bytes], text: str = "첨부 확인 부탁드립니다.") -> bytes:
    parts = [f"--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"]
    for filename, ctype, data in attachments:
        encoded = base64.encodebytes(data).decode("ascii")
        parts.append(
            f"--B\r\nContent-Type: {ctype}\r\nContent-Disposition: attachment; filename=\"{filename}\"\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n"
        )
    body = "".join(parts) + "--B--\r\n"
    return (HEAD + "Content-Type: multipart/mixed; boundary=B\r\n\r\n" + body).encode("utf-8")
