"""Parse one raw e-mail into what the intake service needs, without ever raising.

Bad mail is normal input here: a message that cannot be used gets a `Problem` (a quarantine reason, in
Korean, saying what is wrong and what staff should do) and as many fields as could still be read, so staff
can see who wrote and about what. Smaller oddities that were repaired (a wrong charset label, a missing time
zone) become `warnings`.

The body walk prefers text/plain in multipart/alternative, converts HTML-only bodies to text, keeps quoted
replies, and inlines forwarded messages (message/rfc822) below a "전달된 메시지" line. Every other leaf
becomes an `Attachment`. Zip attachments are checked by `archive.zip_bomb_reason` before anyone opens them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from dsar.intake.archive import MiB, human_size, zip_bomb_reason
from dsar.intake.decode import decode_bytes, decode_words, header_params, unsurrogate
from dsar.intake.htmltext import html_to_text


@dataclass(frozen=True)
class ParseLimits:
    """Size guards; the defaults suit a privacy mailbox that receives scanned documents."""

    max_message_bytes: int = 25 * MiB
    max_attachment_bytes: int = 10 * MiB
    max_attachments: int = 20
    max_decompressed_bytes: int = 100 * MiB  # total uncompressed size declared inside one .zip
    max_decompressed_ratio: float = 100.0  # uncompressed / compressed, checked once the total passes 1 MiB
    max_header_line: int = 8192  # bytes in one physical header line
    max_depth: int = 20  # MIME nesting (multiparts and forwarded messages)


@dataclass(frozen=True)
class Problem:
    """Why a message goes to quarantine instead of becoming a request."""

    code: str
    message: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes = field(repr=False)


@dataclass
class ParsedMessage:
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    sender: str | None = None
    sender_name: str | None = None
    recipients: list[str] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    received: datetime | None = None  # the topmost Received: stamp (the last mail server's, ours)
    text: str = ""
    charset: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    problem: Problem | None = None
    warnings: list[str] = field(default_factory=list)
    auto_submitted: bool = False  # Auto-Submitted / X-Autoreply / Precedence: auto_reply
    bulk: bool = False  # Precedence: bulk|list|junk, List-Id or List-Unsubscribe


_MESSAGES = {
    "empty_message": "메일 내용이 비어 있습니다(0바이트 또는 공백뿐). 수신 서버·전달 설정을 확인하고, "
    "원래 보낸 사람을 알 수 있으면 다시 보내 달라고 안내하세요.",
    "not_mime": "메일 헤더가 없어 전자우편 형식으로 읽을 수 없습니다(손상되었거나 메일이 아닌 파일). "
    "원본 파일을 직접 열어 확인하고, 요청이면 수동으로 접수하세요.",
    "header_too_long": "헤더 한 줄이 {size}로 한도({limit})를 넘습니다. 비정상 메일일 수 있으니 원본을 "
    "확인하고 요청이면 수동으로 접수하세요.",
    "truncated_mime": "메일이 중간에 잘렸습니다({detail}). 본문이나 첨부 일부가 빠졌을 수 있으니 "
    "요청자에게 다시 보내 달라고 요청하세요.",
    "charset_undecodable": "본문의 문자 인코딩을 해석할 수 없습니다(선언된 문자셋 '{charset}'이 맞지 "
    "않고 UTF-8, CP949, ISO-2022-KR로도 읽히지 않음). 글자가 깨져 보이므로 원본을 확인하고 요청자에게 "
    "다시 보내 달라고 요청하세요.",
    "message_too_large": "메일 크기({size})가 한도({limit})를 넘어 본문과 첨부를 읽지 않았습니다. "
    "요청자에게 첨부를 줄이거나 나누어 다시 보내 달라고 안내하세요.",
    "attachment_too_large": "첨부파일 '{name}'의 크기({size})가 한도({limit})를 넘습니다. 요청자에게 "
    "파일을 줄이거나 나누어 보내 달라고 안내하세요.",
    "too_many_attachments": "첨부파일이 {count}개로 한도({limit}개)를 넘습니다. 앞의 {limit}개만 "
    "보관했습니다. 요청자에게 필요한 서류만 추려 다시 보내 달라고 안내하세요.",
    "zip_bomb": "압축 첨부 '{name}'이 압축 폭탄으로 의심됩니다({detail}). 파일을 열거나 풀지 말고 보안 "
    "담당자에게 알리세요.",
    "nesting_too_deep": "MIME 구조가 {limit}단계 넘게 중첩되어 있습니다. 비정상 메일일 수 있으니 "
    "원본을 확인하고 보안 담당자에게 알리세요.",
    "header_injection": "헤더 '{header}'에 {detail}. 위조나 헤더 주입 시도일 수 있으니 회신하지 말고 "
    "보안 담당자와 원본을 확인하세요.",
    "no_sender": "보낸 사람(From) 주소가 없거나 올바르지 않아 회신할 수 없습니다. 원본에서 요청자를 "
    "확인할 수 있으면 수동으로 접수하세요.",
    "empty_body": "본문과 첨부가 모두 비어 있어 무엇을 요청하는지 알 수 없습니다. 요청자에게 요청 "
    "내용을 적어 다시 보내 달라고 안내하세요.",
    "parse_failed": "메일을 읽는 중 예상하지 못한 오류({error})가 났습니다. 원본을 직접 확인해 "
    "수동으로 접수하고 개발 담당자에게 알리세요.",
}
# When several problems apply, the first in this order is the quarantine reason; the rest become warnings.
PROBLEM_CODES: tuple[str, ...] = tuple(_MESSAGES)


def _problem(code: str, **details: object) -> Problem:
    return Problem(code, _MESSAGES[code].format(**details))


_HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_KNOWN_HEADERS = {
    "from", "to", "cc", "subject", "date", "message-id", "mime-version", "content-type", "received",
    "return-path", "delivered-to", "sender", "reply-to", "x-original-to", "in-reply-to", "references",
}
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+")
_MSGID = re.compile(r"<([^<>\s]{1,900})>")
_CHECKED_HEADERS = ("from", "sender", "reply-to", "to", "cc", "subject", "message-id", "in-reply-to")
_SINGLE_HEADERS = ("from", "sender", "subject")
_ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-zip", "multipart/x-zip"}


def _split_head(raw: bytes) -> tuple[bytes, bytes]:
    match = re.search(rb"\r?\n\r?\n", raw)
    return (raw[: match.start()], raw[match.end() :]) if match else (raw, b"")


def _clean(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


class _Builder:
    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.pm = ParsedMessage()
        self.problems: list[Problem] = []
        self.texts: list[str] = []
        self.attachment_count = 0
        self.cut = False  # the payload just read was truncated

    def warn(self, text: str) -> None:
        if text not in self.pm.warnings:
            self.pm.warnings.append(text)

    def finish(self) -> ParsedMessage:
        if self.problems:
            unique = {p.code: p for p in reversed(self.problems)}  # the first of each code wins
            ranked = sorted(unique.values(), key=lambda p: PROBLEM_CODES.index(p.code))
            self.pm.problem = ranked[0]
            for other in ranked[1:]:
                self.warn(f"추가 문제({other.code}): {other.message}")
        return self.pm

    # headers ---------------------------------------------------------------------------------------------
    def check_head(self, head: bytes) -> bool:
        """False when the bytes are not an e-mail at all."""
        if not _HEADER_LINE.match(head):
            self.problems.append(_problem("not_mime"))
            return False
        longest = max((len(line) for line in head.split(b"\n")), default=0)
        if longest > self.limits.max_header_line:
            size, limit = human_size(longest), human_size(self.limits.max_header_line)
            self.problems.append(_problem("header_too_long", size=size, limit=limit))
        if b"\x00" in head:
            detail = "NUL 문자가 있습니다"
            self.problems.append(_problem("header_injection", header="(헤더 영역)", detail=detail))
        if re.search(rb"\r(?!\n)", head):
            detail = "줄 끝이 아닌 CR 문자가 숨어 있습니다"
            self.problems.append(_problem("header_injection", header="(헤더 영역)", detail=detail))
        return True

    def read_headers(self, msg: Message) -> None:
        items = [(name.strip().lower(), unsurrogate(str(value))) for name, value in msg.raw_items()]
        if not any(name in _KNOWN_HEADERS for name, _ in items):
            self.problems.append(_problem("not_mime"))
            return
        values: dict[str, list[str]] = {}
        for name, value in items:
            values.setdefault(name, []).append(re.sub(r"\r?\n(?=[ \t])", "", value))
        for name in _SINGLE_HEADERS:
            if len(values.get(name, [])) > 1:
                detail = f"헤더가 {len(values[name])}개 있습니다(하나만 허용)"
                self.problems.append(_problem("header_injection", header=name.title(), detail=detail))
        for name in _CHECKED_HEADERS:
            for value in values.get(name, []):
                if re.search(r"[\r\n\x00]", decode_words(value)) or re.search(r"[\r\n\x00]", value):
                    detail = "디코딩하면 줄바꿈(CR/LF) 또는 NUL 문자가 나타납니다"
                    self.problems.append(_problem("header_injection", header=name.title(), detail=detail))
                    break

        def first(name: str) -> str | None:
            found = values.get(name)
            return found[0] if found else None

        pm = self.pm
        pm.subject = _clean(decode_words(first("subject") or ""))
        pm.message_id = _one_id(first("message-id"))
        pm.in_reply_to = _one_id(first("in-reply-to"))
        pm.references = _all_ids(" ".join(values.get("references", [])))
        senders = _addresses(values.get("from", [])[:1])
        if senders:
            pm.sender, pm.sender_name = senders[0]
            if len(senders) > 1:
                self.warn("From 헤더에 주소가 여러 개 있어 첫 번째 주소를 보낸 사람으로 사용했습니다.")
        else:
            self.problems.append(_problem("no_sender"))
        for name in ("to", "cc", "delivered-to", "x-original-to"):
            for address, _ in _addresses(values.get(name, [])):
                if address not in pm.recipients:
                    pm.recipients.append(address)
        pm.date = self._date(first("date"))
        pm.received = received_stamp(first("received"))
        auto = (first("auto-submitted") or "no").strip().lower()
        precedence = (first("precedence") or "").strip().lower()
        pm.auto_submitted = (
            auto != "no" or "x-autoreply" in values or "x-autorespond" in values or precedence == "auto_reply"
        )
        listed = "list-id" in values or "list-unsubscribe" in values
        pm.bulk = precedence in ("bulk", "list", "junk") or listed

    def _date(self, value: str | None) -> datetime | None:
        if not value:
            self.warn("Date 헤더가 없습니다. 접수 시각은 수신 시각을 쓰세요.")
            return None
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            self.warn(f"Date 헤더('{value[:60]}')를 해석할 수 없습니다. 접수 시각은 수신 시각을 쓰세요.")
            return None
        if parsed.tzinfo is None:
            self.warn("Date 헤더에 시간대가 없어 UTC로 보았습니다.")
            parsed = parsed.replace(tzinfo=UTC)
        return parsed

    # body ------------------------------------------------------------------------------------------------
    def walk(self, part: Message, depth: int = 0) -> None:
        if depth > self.limits.max_depth:
            if not any(p.code == "nesting_too_deep" for p in self.problems):
                self.problems.append(_problem("nesting_too_deep", limit=self.limits.max_depth))
            return
        ctype = part.get_content_type()
        if ctype == "message/rfc822" or (part.is_multipart() and ctype.startswith("message/")):
            self._forwarded(part, depth)
        elif part.is_multipart():
            self._multipart(part, ctype, depth)
        elif self._is_attachment(part, ctype):
            self._attachment(part, ctype)
        else:
            self._add_text(part, ctype)

    def _multipart(self, part: Message, ctype: str, depth: int) -> None:
        if any(type(d).__name__ in ("CloseBoundaryNotFoundDefect", "StartBoundaryNotFoundDefect")
               for d in part.defects):
            self.problems.append(_problem("truncated_mime", detail="멀티파트의 닫는 경계선이 없습니다"))
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        if ctype != "multipart/alternative":
            for child in children:
                self.walk(child, depth + 1)
            return
        # Prefer the plain-text rendition, then HTML, then a nested multipart (related HTML with images).
        for wanted in ("text/plain", "text/html"):
            for child in children:
                if child.get_content_type() == wanted and not self._is_attachment(child, wanted):
                    if self._add_text(child, wanted):
                        return
        for child in children:
            if child.is_multipart():
                self.walk(child, depth + 1)
                return

    def _forwarded(self, part: Message, depth: int) -> None:
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else None
        if not isinstance(inner, Message):
            return
        heads = {k.lower(): _clean(decode_words(unsurrogate(str(v)))) for k, v in inner.raw_items()}
        lines = ["---------- 전달된 메시지 ----------"]
        for key, label in (("from", "보낸 사람"), ("date", "날짜"), ("subject", "제목"), ("to", "받는 사람")):
            if heads.get(key):
                lines.append(f"{label}: {heads[key]}")
        self.texts.append("\n".join(lines))
        self.walk(inner, depth + 1)

    @staticmethod
    def _is_attachment(part: Message, ctype: str) -> bool:
        disposition = _raw_header(part, "Content-Disposition") or ""
        if disposition.split(";", 1)[0].strip().lower() == "attachment":
            return True
        named = "filename" in disposition.lower() or part.get_param("name") is not None
        return named or ctype not in ("text/plain", "text/html")

    def _payload(self, part: Message) -> bytes:
        cte = str(part.get("Content-Transfer-Encoding") or "").strip().lower()
        payload = part.get_payload()
        if not isinstance(payload, str):
            return b""
        self.cut = False
        if cte != "base64":
            data = part.get_payload(decode=True)
            return data if isinstance(data, bytes) else b""
        compact = re.sub(r"\s", "", payload)
        body = re.sub(r"[^A-Za-z0-9+/=]", "", compact)
        if len(body) != len(compact):
            self.warn("base64 데이터에 허용되지 않는 문자가 있어 무시했습니다.")
        segments = re.split(r"=+", body)
        unpadded = segments[-1]  # the part after the last padding; empty for a properly ended stream
        self.cut = any(len(seg) % 4 == 1 for seg in segments) or len(unpadded) % 4 != 0
        if self.cut:
            self.problems.append(_problem("truncated_mime", detail="base64 데이터가 중간에 끊겼습니다"))
        out = bytearray()
        for seg in segments:
            seg = seg[: len(seg) - 1] if len(seg) % 4 == 1 else seg
            try:
                out += base64.b64decode(seg + "=" * (-len(seg) % 4))
            except (binascii.Error, ValueError):
                break
        return bytes(out)

    def _add_text(self, part: Message, ctype: str) -> bool:
        """Decode a text leaf and add it to the body; False when it holds no text."""
        data = self._payload(part)
        declared = part.get_content_charset()
        if ctype == "text/html" and not declared:
            meta = re.search(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]+)", data[:4096], re.IGNORECASE)
            declared = meta.group(1).decode("ascii") if meta else None
        decoded = decode_bytes(data, declared, cut=self.cut)
        text = decoded.text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        if ctype == "text/html":
            text = html_to_text(text)
        text = unicodedata.normalize("NFC", text).strip("\n")
        if not text.strip():
            return False
        if decoded.status == "failed":
            self.problems.append(_problem("charset_undecodable", charset=declared or "없음"))
        elif decoded.status == "fallback":
            shown = f"'{declared}'" if declared else "없음"
            self.warn(f"본문 문자셋 선언({shown})이 맞지 않아 {decoded.charset}로 해석했습니다.")
        if self.pm.charset is None:
            self.pm.charset = decoded.charset
        self.texts.append(text)
        return True

    def _attachment(self, part: Message, ctype: str) -> None:
        self.attachment_count += 1
        limits = self.limits
        if self.attachment_count > limits.max_attachments:
            return
        data = self._payload(part)
        name = _filename(part, ctype, self.attachment_count)
        if len(data) > limits.max_attachment_bytes:
            limit, size = human_size(limits.max_attachment_bytes), human_size(len(data))
            self.problems.append(_problem("attachment_too_large", name=name, size=size, limit=limit))
        if name.lower().endswith(".zip") or ctype in _ZIP_TYPES:
            detail = zip_bomb_reason(
                data, max_total=limits.max_decompressed_bytes, max_ratio=limits.max_decompressed_ratio,
                max_member=limits.max_attachment_bytes, warn=self.warn,
            )
            if detail:
                self.problems.append(_problem("zip_bomb", name=name, detail=detail))
        digest = hashlib.sha256(data).hexdigest()
        self.pm.attachments.append(Attachment(name, ctype, len(data), digest, data))


def _one_id(value: str | None) -> str | None:
    if not value:
        return None
    ids = _all_ids(value)
    return ids[0] if ids else None


def _all_ids(value: str) -> list[str]:
    found = _MSGID.findall(value)
    if not found:
        found = [t.strip("<>") for t in value.split() if "@" in t and len(t) < 900]
    unique: list[str] = []
    for item in found:
        if item and item not in unique:
            unique.append(item)
    return unique


def _addresses(values: list[str]) -> list[tuple[str, str | None]]:
    result: list[tuple[str, str | None]] = []
    try:
        pairs = getaddresses(values)
    except Exception:  # the stdlib address parser has raised on hostile input before
        pairs = []
    for name, address in pairs:
        address = address.strip().strip("<>").lower()
        if not _ADDRESS.fullmatch(address) or "=?" in address:
            continue
        shown = _clean(decode_words(name)).strip("\"' ") or None
        result.append((address, shown))
    return result


def _raw_header(part: Message, name: str) -> str | None:
    """A header as written (8-bit bytes decoded as UTF-8 or CP949); `Message.get` would blur raw 8-bit
    text into replacement characters, and Korean mailers put raw file names in headers."""
    for key, value in part.raw_items():
        if key.lower() == name.lower():
            return unsurrogate(str(value))
    return None


def _filename(part: Message, ctype: str, index: int) -> str:
    name = ""
    for header in ("Content-Disposition", "Content-Type"):
        value = _raw_header(part, header)
        if value is not None:
            params = header_params(value)
            name = params.get("filename" if header == "Content-Disposition" else "name", "")
            if name:
                break
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 190] + dot + ext[:9]) if dot and len(ext) < 10 else name[:200]
    if not name:
        ext = mimetypes.guess_extension(ctype) or ".bin"
        name = f"attachment-{index}{ext}"
    return name


def _parse(raw: bytes, limits: ParseLimits) -> ParsedMessage:
    builder = _Builder(limits)
    if not raw.strip():
        builder.problems.append(_problem("empty_message"))
        return builder.finish()
    stripped = raw.lstrip(b" \t\r\n")
    if stripped.startswith(b"From ") and not stripped.startswith(b"From: "):  # mbox envelope line
        stripped = stripped.split(b"\n", 1)[1] if b"\n" in stripped else b""
    head, _ = _split_head(stripped)
    if not builder.check_head(head):
        return builder.finish()
    too_large = len(raw) > limits.max_message_bytes
    source = head + b"\n\n" if too_large else stripped
    msg = BytesParser(policy=policy.compat32).parsebytes(source)
    builder.read_headers(msg)
    if any(p.code == "not_mime" for p in builder.problems):
        return builder.finish()
    if too_large:
        size, limit = human_size(len(raw)), human_size(limits.max_message_bytes)
        builder.problems.append(_problem("message_too_large", size=size, limit=limit))
        return builder.finish()
    builder.walk(msg)
    pm = builder.pm
    pm.text = "\n\n".join(builder.texts).strip()
    if builder.attachment_count > limits.max_attachments:
        builder.problems.append(
            _problem("too_many_attachments", count=builder.attachment_count, limit=limits.max_attachments)
        )
    if not pm.text and not pm.attachments:
        builder.problems.append(_problem("empty_body"))
    return builder.finish()


def received_stamp(value: str | None) -> datetime | None:
    """The time a Received: header value ends with (after its last ';'); None without one or unreadable."""
    if not value or ";" not in value:
        return None
    try:
        return parsedate_to_datetime(value.rsplit(";", 1)[1].strip())
    except (TypeError, ValueError, IndexError, OverflowError):  # an unreadable stamp is simply not used
        return None


def parse_message(raw: bytes, limits: ParseLimits = ParseLimits()) -> ParsedMessage:  # noqa: B008
    """Parse `raw` (one RFC 5322 message). Never raises: unusable mail comes back with `problem` set."""
    try:
        data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
        return _parse(data, limits)
    except RecursionError:  # the stdlib parser recurses per MIME level
        pm = ParsedMessage()
        pm.problem = _problem("nesting_too_deep", limit=limits.max_depth)
        return pm
    except Exception as exc:  # last line of defence: a mail must never stop the intake loop
        pm = ParsedMessage()
        pm.problem = _problem("parse_failed", error=type(exc).__name__)
        return pm
