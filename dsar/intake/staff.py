"""Staff entry: a request taken by phone, by letter, at a visit or by fax, entered by the person who took it.

No message exists, and none is invented: the case is opened directly through `engine.open_case` with the
channel and the time the request actually reached the organisation; the statutory clock runs from then, so
a time in the future is refused. The requester's words are masked like mail (주민등록번호 and card numbers never
stored), a duplicate is linked the same way as for mail, and the acknowledgement goes out by e-mail when an
address is known.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from dsar import audit, engine
from dsar.calendar_kr import KST
from dsar.clock import Clock
from dsar.errors import InvalidInput, NotFound
from dsar.intake import service
from dsar.intake.webform import AGENT_KINDS, parse_rights
from dsar.models import Notice, Organisation, Request
from dsar.pii import mask_pii

CHANNELS = {"phone": "전화", "written": "서면", "visit": "방문", "fax": "팩스"}
CLOCK_SKEW = timedelta(minutes=2)  # a staff PC a little ahead of the server is not "the future"
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}")


@dataclass
class StaffEntry:
    """What the staff member took down. `received_at` is when the request reached the organisation."""

    org: str
    rights: list[str]
    channel: str
    received_at: datetime
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    details: str = ""
    agent_kind: str | None = None


@dataclass
class StaffResult:
    request_id: str
    cases: list[str]
    org: str
    rights: list[str]
    channel: str
    received_at: str
    due: str | None
    duplicate_of: str | None = None
    notices: list[int] = field(default_factory=list)  # queued acknowledgements, for the outbox after commit
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_received(value: str) -> datetime:
    """ISO 8601 (2026-11-20T14:00+09:00); a time without a zone is Seoul time."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise InvalidInput(
            f"접수 시각 '{value}'을(를) 읽을 수 없습니다. 2026-11-20T14:00+09:00처럼 입력하세요 "
            "(received must be ISO 8601)", field="received_at",
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=KST)


def entry_from_dict(data: dict[str, Any]) -> StaffEntry:
    """The JSON of POST /intake/staff (or the CLI's options) as an entry; checked again by `enter`."""
    received = data.get("received_at", data.get("received"))
    if not isinstance(received, str) or not received.strip():
        raise InvalidInput("접수 시각(received_at)을 입력하세요 (received_at is required)", field="received_at")
    rights = data.get("right", data.get("rights"))
    return StaffEntry(
        org=str(data.get("org") or ""), rights=rights if isinstance(rights, list) else [rights] if rights else [],
        channel=str(data.get("channel") or ""), received_at=parse_received(received),
        name=_text(data.get("name")), email=_text(data.get("email")), phone=_text(data.get("phone")),
        details=str(data.get("details") or ""), agent_kind=_text(data.get("agent_kind")),
    )


def _text(value: Any) -> str | None:
    text = " ".join(str(value).split()) if value is not None else ""
    return text or None


def enter(session: Session, entry: StaffEntry, *, clock: Clock, actor: str) -> StaffResult:
    """Open one case per right asked for, in the caller's transaction (commit, then hand `notices` on)."""
    if entry.channel not in CHANNELS:
        options = ", ".join(f"{k}({v})" for k, v in CHANNELS.items())
        raise InvalidInput(f"접수 경로 '{entry.channel}'은(는) 직원 접수에 쓸 수 없습니다. 가능한 값: {options} "
                           "(channel must be phone, written, visit or fax)", field="channel")
    try:
        rights = parse_rights(entry.rights)
    except ValueError as exc:
        raise InvalidInput(f"{exc} (unknown right)", field="right") from None
    if not rights:
        raise InvalidInput("요구 종류(--right)를 하나 이상 입력하세요 (at least one right)", field="right")
    if entry.received_at.tzinfo is None:
        raise InvalidInput("접수 시각에 시간대가 없습니다 (received_at needs a time zone)", field="received_at")
    now = clock.now()
    if entry.received_at > now + CLOCK_SKEW:
        raise InvalidInput(
            f"접수 시각 {entry.received_at.astimezone(KST):%Y-%m-%d %H:%M}이(가) 현재 시각"
            f"({now.astimezone(KST):%Y-%m-%d %H:%M})보다 뒤입니다. 실제로 요구를 받은 시각을 입력하세요 "
            "(received_at is in the future)", field="received_at",
        )
    if not entry.name:
        raise InvalidInput("요구한 사람의 성명(--name)을 입력하세요 (name is required)", field="name")
    email = entry.email.lower() if entry.email else None
    if email and not _EMAIL.fullmatch(email):
        raise InvalidInput(f"이메일 주소 '{email}'의 형식이 올바르지 않습니다 (invalid e-mail)", field="email")
    if entry.agent_kind is not None and entry.agent_kind not in AGENT_KINDS:
        raise InvalidInput("대리인 구분은 '법정대리인' 또는 '위임'이어야 합니다 (agent_kind)", field="agent_kind")
    org = session.exec(select(Organisation).where(Organisation.slug == entry.org)).first()
    if org is None:
        raise NotFound(f"기관 '{entry.org}'이(가) 등록되어 있지 않습니다. dsar policy import로 먼저 등록하세요 "
                       "(unknown organisation)", field="org")

    details = mask_pii(entry.details.replace("\r\n", "\n").strip()).text
    label = CHANNELS[entry.channel]
    subject = f"[{label} 접수] 개인정보 {'·'.join(rights)} 요구"
    cases = []
    for right in rights:
        duplicate = service.duplicate_of(session, email, right, entry.received_at)
        cases.append(engine.open_case(
            session, org=org, right=right, rights=rights, received_at=entry.received_at, actor=actor, clock=clock,
            channel=entry.channel, requester_email=email, requester_name=entry.name, requester_phone=entry.phone,
            agent_kind=entry.agent_kind, subject=subject, details=details,
            classification={"entered_by": actor, "channel": entry.channel},
            duplicate_of_id=duplicate.id if duplicate else None,
        ))
    first = cases[0]
    audit.record(session, "intake.staff_entry", actor=actor, org_id=org.id, request_id=first.id,
                 details={"cases": [c.number for c in cases], "channel": entry.channel,
                          "received_at": entry.received_at.isoformat(), "entered_at": now.isoformat()})
    session.flush()
    notices = list(session.exec(select(Notice.id).where(
        col(Notice.request_id).in_([c.id for c in cases]), Notice.status == "queued")))
    duplicate_of = None
    if first.duplicate_of_id:
        dup = session.get(Request, first.duplicate_of_id)
        duplicate_of = dup.number if dup else None
    warnings = []
    if not email:
        warnings.append("이메일 주소가 없어 접수 확인을 보내지 않았습니다. 전화나 우편으로 접수번호와 처리 기한을 "
                        "알려 주세요.")
    return StaffResult(
        request_id=first.number or "", cases=[c.number or "" for c in cases], org=org.slug, rights=rights,
        channel=entry.channel, received_at=entry.received_at.isoformat(),
        due=first.due_date.isoformat() if first.due_date else None, duplicate_of=duplicate_of,
        notices=[n for n in notices if n is not None], warnings=warnings,
    )
