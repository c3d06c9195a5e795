"""Real RFC 5322 messages from the JSON shapes: an inbound-mail service's JSON, and the web form.

Intake stores every message raw before anything reads it. Mail services that post JSON instead of the raw
message, and the web form, are turned into an `EmailMessage` here, so what is stored is always a message the
one parser (`dsar.intake.parse`) reads, and a web request is kept, threaded and deduplicated exactly like mail.

Bad input raises `IntakeError` (code `intake_invalid`) whose context says which field (`field`) and why
(`reason`: bad_json, missing_field, bad_address, bad_base64, bad_header, bad_value); the API answers 4xx with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.encoders import encode_base64
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import HeaderParser
from email.utils import format_datetime, formataddr, getaddresses
from typing import Any

from dsar.errors import IntakeError
from dsar.rights import Right
from dsar.settings import get_settings

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024  # the parser's own per-attachment limit (ParseLimits)
# Headers the builder writes itself; a service's copy of them would make a second, conflicting one.
_OWN_HEADERS = {"content-type", "content-transfer-encoding", "mime-version", "content-disposition"}
_ADDRESS_HEADERS = ("from", "to", "cc")
_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}")
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{6,18}[0-9]")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}")
AGENT_KINDS = ("법정대리인", "위임")


def _invalid(reason: str, field_name: str, ko: str, en: str) -> IntakeError:
    return IntakeError(f"{ko} ({en})", reason=reason, field=field_name)


@dataclass(frozen=True)
class FileIn:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


def decode_file(item: Any, where: str) -> FileIn:
    """One attachment as the JSON shapes carry it: {"filename", "content_type", "content" (base64)}."""
    if not isinstance(item, dict):
        raise _invalid("bad_value", where, "첨부파일은 filename, content_type, content를 가진 객체여야 합니다",
                       "an attachment must be an object with filename, content_type, content")
    content = item.get("content")
    if not isinstance(content, str) or not content.strip():
        raise _invalid("missing_field", f"{where}.content", "첨부파일 내용(content, base64)이 없습니다",
                       "attachment content (base64) is missing")
    try:
        data = base64.b64decode(re.sub(r"\s", "", content), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("bad_base64", f"{where}.content", "첨부파일 내용이 올바른 base64가 아닙니다",
                       "attachment content is not valid base64") from None
    return make_file(item.get("filename"), item.get("content_type"), data, where)


def make_file(filename: Any, content_type: Any, data: bytes, where: str) -> FileIn:
    """An uploaded file with a safe name (no folders) and a plain content type, within the size limit."""
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise _invalid("too_large", where,
                       f"첨부파일이 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB를 넘습니다. 파일을 줄여 보내 주세요",
                       "attachment too large")
    name = "".join(ch for ch in str(filename or "") if ch.isprintable())
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip(" .")
    ctype = str(content_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    if not _CONTENT_TYPE.fullmatch(ctype) or ctype.startswith(("multipart/", "message/")):
        ctype = "application/octet-stream"
    return FileIn(filename=name[:200] or "attachment.bin", content_type=ctype, data=data)


def _header_items(raw: Any) -> list[tuple[str, str]]:
    """Headers as services send them: a dict (values str or list), a list of pairs or {name, value}
    objects, or one block of raw header text."""
    if raw is None:
        return []
    items: list[tuple[Any, Any]] = []
    if isinstance(raw, dict):
        for name, value in raw.items():
            items.extend((name, v) for v in (value if isinstance(value, list) else [value]))
    elif isinstance(raw, list):
        for entry in raw:
            if isinstance(entry, dict):
                items.append((entry.get("name", entry.get("Name")), entry.get("value", entry.get("Value"))))
            elif isinstance(entry, list | tuple) and len(entry) == 2:
                items.append((entry[0], entry[1]))
            else:
                raise _invalid("bad_header", "headers", "headers 항목의 형식을 알 수 없습니다",
                               "headers entries must be pairs or {name, value}")
    elif isinstance(raw, str):
        items = list(HeaderParser(policy=policy.compat32).parsestr(raw, headersonly=True).items())
    else:
        raise _invalid("bad_header", "headers", "headers는 객체, 목록 또는 헤더 문자열이어야 합니다",
                       "headers must be an object, a list or a header block")
    out = []
    for name, value in items:
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise _invalid("bad_header", "headers", f"헤더 이름 {str(name)[:40]!r}이(가) 올바르지 않습니다",
                           "invalid header name")
        text = "" if value is None else str(value)
        if re.search(r"[\r\n\x00]", re.sub(r"\r?\n[ \t]+", " ", text)):
            raise _invalid("bad_header", f"headers.{name}", f"헤더 {name}에 줄바꿈이나 NUL 문자가 있습니다",
                           "header values may not contain CR, LF or NUL")
        out.append((name, re.sub(r"\r?\n[ \t]+", " ", text)))
    return out


def _addresses(value: Any, field_name: str, *, required: bool) -> list[str]:
    values = value if isinstance(value, list) else ([] if value in (None, "") else [value])
    if not all(isinstance(v, str) for v in values):
        raise _invalid("bad_address", field_name, f"{field_name}는 문자열 또는 문자열 목록이어야 합니다",
                       f"{field_name} must be a string or a list of strings")
    if any(re.search(r"[\r\n\x00]", v) for v in values):
        raise _invalid("bad_header", field_name, f"{field_name}에 줄바꿈이나 NUL 문자가 있습니다",
                       "addresses may not contain CR, LF or NUL")
    parsed = [addr for _, addr in getaddresses(values) if addr]
    if required and not parsed:
        raise _invalid("missing_field", field_name, f"{field_name} 주소가 없습니다", f"'{field_name}' is required")
    bad = [a for a in parsed if not _EMAIL.fullmatch(a)]
    if bad:
        raise _invalid("bad_address", field_name, f"{field_name}의 주소 {bad[0][:80]!r}가 올바르지 않습니다",
                       f"invalid address in '{field_name}'")
    return values


def _set(msg: EmailMessage, name: str, value: str) -> None:
    """ASCII values are kept exactly as given; others are RFC 2047-encoded by the header registry."""
    try:
        if value.isascii():
            msg.set_raw(name, value)
        else:
            msg[name] = value
    except (ValueError, TypeError) as exc:
        raise _invalid("bad_header", f"headers.{name}", f"헤더 {name}의 값을 쓸 수 없습니다: {exc}",
                       "header value rejected") from None


def _mail_domain() -> str:
    return get_settings().mail_from.rsplit("@", 1)[-1] or "dsar.local"


def _received(by: str, received_at: datetime) -> str:
    return f"by {_mail_domain()} (dsar {by}); {format_datetime(received_at)}"


def _body(msg: EmailMessage, text: str | None, html: str | None, files: Iterable[FileIn]) -> None:
    if text is not None and text != "":
        msg.set_content(text, charset="utf-8")
        if html:
            msg.add_alternative(html, subtype="html", charset="utf-8")
    elif html:
        msg.set_content(html, subtype="html", charset="utf-8")
    else:
        msg.set_content("", charset="utf-8")
    for f in files:
        maintype, subtype = f.content_type.split("/", 1)
        msg.add_attachment(f.data, maintype=maintype, subtype=subtype, filename=f.filename)


def _text_field(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid("bad_value", key, f"{key}는 문자열이어야 합니다", f"'{key}' must be a string")
    return value


def message_from_json(data: Any, *, received_at: datetime, body_sha256: str) -> bytes:
    """The JSON shape of inbound-mail services → the RFC 5322 bytes to store.

    Without a Message-ID in `headers`, the message gets one derived from the request body's hash: a service
    that retries the same post does not make a second message.
    """
    if not isinstance(data, dict):
        raise _invalid("bad_json", "(body)", "JSON 본문은 객체여야 합니다", "the JSON body must be an object")
    sender = _addresses(data.get("from"), "from", required=True)
    to = _addresses(data.get("to"), "to", required=True)
    cc = _addresses(data.get("cc"), "cc", required=False)
    subject = _text_field(data, "subject")
    text, html = _text_field(data, "text"), _text_field(data, "html")
    attachments = data.get("attachments") or []
    if not isinstance(attachments, list):
        raise _invalid("bad_value", "attachments", "attachments는 목록이어야 합니다", "'attachments' must be a list")
    files = [decode_file(item, f"attachments[{i}]") for i, item in enumerate(attachments)]
    extra = [(n, v) for n, v in _header_items(data.get("headers")) if n.lower() not in _OWN_HEADERS]
    given = {n.lower() for n, _ in extra}

    msg = EmailMessage(policy=policy.SMTP)
    # The mail service's own Received stamps (when the organisation's mail system got the message) come first;
    # without them, ours records when the webhook got it. The clock runs from the topmost one.
    stamps = [(n, v) for n, v in extra if n.lower() == "received"]
    for name, value in stamps or [("Received", _received("json webhook", received_at))]:
        _set(msg, name, value)
    _set(msg, "From", ", ".join(sender))
    _set(msg, "To", ", ".join(to))
    if cc:
        _set(msg, "Cc", ", ".join(cc))
    if subject is not None:
        if re.search(r"[\r\n\x00]", subject):
            raise _invalid("bad_header", "subject", "제목에 줄바꿈이나 NUL 문자가 있습니다",
                           "the subject may not contain CR, LF or NUL")
        _set(msg, "Subject", subject)
    for name, value in extra:
        lower = name.lower()
        if lower in _ADDRESS_HEADERS or lower == "received" or (lower == "subject" and subject is not None):
            continue  # the top-level fields win; Received stamps are already on top
        if lower == "message-id":
            value = value.strip()
            value = value if value.startswith("<") else f"<{value.strip('<>')}>"
        if lower in ("message-id", "date") and lower in {k.lower() for k in msg.keys()}:
            continue
        _set(msg, name, value)
    if "message-id" not in given:
        _set(msg, "Message-ID", f"<json.{body_sha256[:40]}@{_mail_domain()}>")
    if "date" not in given:
        _set(msg, "Date", format_datetime(received_at))
    return _finish(msg, text, html, files)


def _finish(msg: EmailMessage, text: str | None, html: str | None, files: list[FileIn]) -> bytes:
    try:
        _body(msg, text, html, files)
        return msg.as_bytes()
    except (UnicodeError, ValueError):  # lone surrogates from JSON "\ud800" escapes, and the like
        raise _invalid("bad_value", "text", "본문에 메일로 쓸 수 없는 문자가 있습니다. 짝이 맞지 않는 유니코드 "
                       "서로게이트 문자가 들어 있는지 확인하세요",
                       "the text has characters that cannot be encoded") from None


# -- the web form ---------------------------------------------------------------------------------------------


@dataclass
class WebRequest:
    """A validated web-form request. `name`, `email` and `phone` are the requester's; `agent` is set when
    someone asks on the data subject's behalf (then `name` is the data subject's name)."""

    org: str
    name: str
    email: str
    rights: list[str]
    phone: str | None = None
    details: str = ""
    agent_kind: str | None = None
    agent_name: str | None = None
    agent_relation: str | None = None
    attachment: FileIn | None = None


class FormInvalid(IntakeError):
    """Every problem of one form at once, by field, so the page can show them all next to their fields."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        super().__init__("입력 내용을 확인해 주세요: " + " ".join(problems.values()) + " (invalid form input)",
                         reason="bad_value", fields=problems)


def parse_rights(value: Any) -> list[str]:
    """Korean names or English keys, one string (comma-separated allowed) or a list → Korean names, in order."""
    items = value if isinstance(value, list) else re.split(r"[,·\s]+", value) if isinstance(value, str) else []
    rights: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            continue
        try:
            right = Right.parse(item.strip()).value
        except ValueError:
            known = ", ".join(r.value for r in Right)
            raise ValueError(f"알 수 없는 요구 종류 '{str(item)[:20]}'입니다. 가능한 값: {known}") from None
        if right not in rights:
            rights.append(right)
    return rights


def _plain(value: Any) -> str:
    """Text that can be written to a message: lone surrogates (from JSON "\\ud800" escapes) become "?"."""
    return str(value or "").encode("utf-8", "replace").decode("utf-8")


def _clean_line(value: Any, limit: int) -> str:
    return " ".join(_plain(value).split())[:limit]


def parse_web_request(data: Any, *, attachment: FileIn | None = None) -> WebRequest:
    """Check a web request (the JSON of POST /intake/web, or the form fields); every problem is reported."""
    if not isinstance(data, dict):
        raise _invalid("bad_json", "(body)", "JSON 본문은 객체여야 합니다", "the JSON body must be an object")
    problems: dict[str, str] = {}
    org = _clean_line(data.get("org"), 64)
    if not org:
        problems["org"] = "신청할 기관(org)을 지정해 주세요."
    name = _clean_line(data.get("name"), 100)
    if not name:
        problems["name"] = "정보주체의 성명을 입력해 주세요."
    email = _clean_line(data.get("email"), 320).lower()
    if not email:
        problems["email"] = "처리 결과를 받을 이메일 주소를 입력해 주세요."
    elif not _EMAIL.fullmatch(email):
        problems["email"] = f"이메일 주소 '{email[:60]}'의 형식이 올바르지 않습니다."
    phone = _clean_line(data.get("phone"), 30) or None
    if phone and not _PHONE.fullmatch(phone):
        problems["phone"] = "전화번호는 숫자와 하이픈으로 입력해 주세요(예: 010-1234-5678)."
    try:
        rights = parse_rights(data.get("right", data.get("rights")))
        if not rights:
            problems["right"] = "요구 종류를 하나 이상 선택해 주세요."
    except ValueError as exc:
        rights, problems["right"] = [], str(exc)
    details = _plain(data.get("details")).replace("\r\n", "\n").strip()
    if len(details) > 20_000:
        problems["details"] = "요구 내용은 20,000자 이내로 적어 주세요."
    agent = data.get("agent") or {}
    if not isinstance(agent, dict):
        agent = {}
        problems["agent"] = "대리인 정보의 형식이 올바르지 않습니다."
    kind = _clean_line(agent.get("kind"), 10) or None
    agent_name = _clean_line(agent.get("name"), 100) or None
    relation = _clean_line(agent.get("relation"), 50) or None
    if kind is not None and kind not in AGENT_KINDS:
        problems["agent.kind"] = "대리인 구분은 '법정대리인' 또는 '위임' 중 하나여야 합니다."
    if kind and not agent_name:
        problems["agent.name"] = "대리인이 신청하는 경우 대리인의 성명을 입력해 주세요."
    if data.get("attachment") and attachment is None:
        try:
            attachment = decode_file(data["attachment"] if isinstance(data["attachment"], dict)
                                     else {"content": data["attachment"], "filename": "위임장"}, "attachment")
        except IntakeError as exc:
            problems["attachment"] = exc.message
    if problems:
        raise FormInvalid(problems)
    return WebRequest(org=org, name=name, email=email, rights=rights, phone=phone, details=details,
                      agent_kind=kind, agent_name=agent_name if kind else None,
                      agent_relation=relation if kind else None, attachment=attachment)


def web_message_id(idempotency_key: str | None) -> str:
    """A retried submission with the same Idempotency-Key is the same message (stored once)."""
    token = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40] if idempotency_key else uuid.uuid4().hex
    return f"<web.{token}@{_mail_domain()}>"


RIGHTS_HEADER = "X-DSAR-Rights"  # ACCESS=123; ERASURE=124: the rights ticked, with their cases' reserved ids


def message_from_web(req: WebRequest, *, to: str, received_at: datetime, message_id: str,
                     client: str | None = None, case_ids: list[int] | None = None) -> bytes:
    """The web request as a message from the requester to the organisation's intake address.

    The body says in words which rights are asked for and who asks; the requester's own text follows. The
    rights ticked also go in a header, which intake takes as they are (`form_rights`), with `case_ids`, the ids
    reserved for their cases (one per right, in order) when the answer already gave out their numbers.
    """
    from dsar.letters.filters import right_phrase

    phrase = "·".join(req.rights)
    lines = [f"홈페이지 신청서로 접수된 개인정보 {phrase} 요구입니다.", "",
             f"요구 종류: {', '.join(right_phrase(r) for r in req.rights)}",
             f"정보주체 성명: {req.name}", f"회신 받을 이메일: {req.email}"]
    if req.phone:
        lines.append(f"연락처: {req.phone}")
    if req.agent_kind == "법정대리인":
        relation = f" (정보주체와의 관계: {req.agent_relation})" if req.agent_relation else ""
        lines.append(f"신청인: 법정대리인 {req.agent_name}{relation}")
    elif req.agent_kind:
        # The relation of a mandated agent ("자녀", "부모") would read as 법정대리인 to the classifier: it is
        # kept in a header, not in the words the classifier reads.
        lines.append(f"신청인: 위임을 받은 대리인 {req.agent_name}")
    if req.attachment is not None:
        lines.append(f"첨부: {req.attachment.filename}")
    if req.details:
        lines += ["", "[요구 내용]", req.details]
    files = [req.attachment] if req.attachment else []
    msg = _web_message("\n".join(lines) + "\n", files)
    via = f"from {client} " if client and re.fullmatch(r"[0-9A-Fa-f.:]{2,45}", client) else ""
    display = req.agent_name if req.agent_kind and req.agent_name else req.name
    headers = [("Received", f"{via}{_received('web form', received_at)}"),
               ("From", formataddr((display, req.email), charset="utf-8")), ("To", to),
               ("Subject", f"[홈페이지 신청] 개인정보 {phrase} 요구"), ("Date", format_datetime(received_at)),
               ("Message-ID", message_id), ("X-DSAR-Channel", "web"), ("X-DSAR-Org", req.org)]
    if req.agent_kind and req.agent_relation:
        headers.append(("X-DSAR-Agent-Relation", req.agent_relation))
    ids = case_ids or [None] * len(req.rights)
    headers.append((RIGHTS_HEADER, "; ".join(f"{Right(r).name}={i}" if i else Right(r).name
                                             for r, i in zip(req.rights, ids, strict=True))))
    for name, value in headers:
        msg[name] = value if value.isascii() else Header(value, "utf-8", header_name=name)
    return msg.as_bytes()


def form_rights(raw: bytes) -> dict[str, int | None]:
    """The rights a stored web request asked for, in order, each with the id reserved for its case (or None);
    empty for a message from elsewhere."""
    value = HeaderParser().parsestr(raw[:65536].decode("ascii", "replace"), headersonly=True).get(RIGHTS_HEADER)
    out: dict[str, int | None] = {}
    for item in str(value or "").split(";"):
        name, _, number = item.strip().partition("=")
        if name in Right.__members__:
            out[Right[name].value] = int(number) if number.isdigit() else None
    return out


def _web_message(text: str, files: list[FileIn]) -> Message:
    """The body of a web request: its text (UTF-8, base64), with the 위임장 attached. Built with the classic MIME
    classes, which write what they are given (the header-parsing `EmailMessage` took a third of the form's time).
    The boundary cannot occur in base64 parts ("_"), so the generator need not search them for one."""
    body = MIMEText(text, "plain", "utf-8")
    if not files:
        return body
    msg = MIMEMultipart("mixed", boundary=f"=_dsar_{uuid.uuid4().hex}")
    msg.attach(body)
    for f in files:
        part = MIMEBase(*f.content_type.split("/", 1))
        part.set_payload(f.data)
        encode_base64(part)
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", f.filename))
        msg.attach(part)
    return msg
