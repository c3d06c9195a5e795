"""What a notice is rendered from: the contract between the workflow engine and the templates.

The engine fills a `NoticeContext`; `render_notice` checks it against the notice kind (see `catalog`) and
hands the objects to Jinja as they are, so a template reads `case.requester.name` or
`decision.legal_ground.article`. Every optional field may be None or empty and the templates omit the line;
nothing prints "None".

Free text that comes from the requester (`Case.details`, names) is untrusted: the HTML templates autoescape
it. Dates are Korean calendar dates; datetimes must be timezone-aware (they are shown in Asia/Seoul time).

`NoticeContext.to_json()` is the canonical form stored with every rendered notice and
`NoticeContext.from_json()` reads it back, so a stored notice can be rendered again byte for byte.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args, get_origin, get_type_hints

from dsar.errors import InvalidInput
from dsar.rights import Right

Outcome = Literal["approved", "partial", "refused", "postponed", "extended", "done"]
"""approved/done: carried out in full; partial: part granted, part refused; refused; postponed; extended."""
OUTCOMES: frozenset[str] = frozenset(get_args(Outcome))
AgentKind = Literal["법정대리인", "위임"]
DayCount = Literal["민법", "민원처리법"]


def _freeze(obj: object, *names: str) -> None:
    """Store list arguments as tuples so a context cannot change after it was checked."""
    for name in names:
        value = getattr(obj, name)
        if not isinstance(value, tuple):
            object.__setattr__(obj, name, tuple(value))


def _require_aware(value: datetime | None, what: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise InvalidInput(
            f"{what} must be a timezone-aware datetime (got {value.isoformat()}); "
            "attach the zone it was recorded in, e.g. Asia/Seoul",
            field=what,
        )


@dataclass(frozen=True, kw_only=True)
class Contact:
    """A named person to contact: the 개인정보 보호책임자 or a 담당자. Any field may be unknown."""

    name: str | None = None
    title: str | None = None  # 직책, e.g. "정보보호실장"
    department: str | None = None  # 부서
    phone: str | None = None
    email: str | None = None

    @property
    def is_empty(self) -> bool:
        return not any((self.name, self.title, self.department, self.phone, self.email))

    @property
    def affiliation(self) -> str | None:
        """ "정보보호실 실장": department and title, whichever are known."""
        return " ".join(p for p in (self.department, self.title) if p) or None


@dataclass(frozen=True, kw_only=True)
class ComplaintBody:
    """An outside body the requester may turn to (개인정보침해신고센터 ...)."""

    name: str
    url: str | None = None
    phone: str | None = None


DEFAULT_COMPLAINT_BODIES: tuple[ComplaintBody, ...] = (
    ComplaintBody(name="개인정보침해신고센터", url="privacy.kisa.or.kr", phone="118"),
    ComplaintBody(name="개인정보분쟁조정위원회", url="www.kopico.go.kr", phone="1833-6972"),
    ComplaintBody(name="대검찰청 사이버수사과", url="www.spo.go.kr", phone="1301"),
    ComplaintBody(name="경찰청 사이버수사국", url="ecrm.police.go.kr", phone="182"),
)
"""Used when the organisation's policy names no complaint bodies."""


@dataclass(frozen=True, kw_only=True)
class Org:
    """The controller (개인정보처리자) sending the notice."""

    name: str
    slug: str
    officer: Contact | None = None  # 개인정보 보호책임자
    handler: Contact | None = None  # 담당자 (the desk that answers day to day)
    complaint_bodies: tuple[ComplaintBody, ...] = ()  # empty: DEFAULT_COMPLAINT_BODIES are shown
    objection_procedure: str | None = None  # 이의제기 방법 in the organisation's words; None: a default text
    objection_days: int | None = 30  # for the default text: days to object after receiving the notice
    objection_answer_days: int | None = 10  # for the default text: days the organisation takes to answer
    address: str | None = None
    website: str | None = None

    def __post_init__(self) -> None:
        _freeze(self, "complaint_bodies")

    @property
    def effective_complaint_bodies(self) -> tuple[ComplaintBody, ...]:
        return self.complaint_bodies or DEFAULT_COMPLAINT_BODIES

    @property
    def contact_people(self) -> tuple[tuple[str, Contact], ...]:
        """The officer and the handler that are known, with their Korean labels."""
        people = (("개인정보 보호책임자", self.officer), ("개인정보 보호 담당자", self.handler))
        return tuple((label, c) for label, c in people if c is not None and not c.is_empty)

    @property
    def has_contacts(self) -> bool:
        """Whether a notice can name someone (or a policy page) to contact."""
        return any(c is not None and not c.is_empty for c in (self.officer, self.handler)) or bool(
            self.website
        )


@dataclass(frozen=True, kw_only=True)
class Requester:
    """The data subject (정보주체). `name` None is shown as "신청인"."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, kw_only=True)
class Agent:
    """Someone asking on the subject's behalf (법 38①): a 법정대리인, or a person holding a 위임장."""

    kind: AgentKind
    name: str | None = None
    relation: str | None = None  # 정보주체와의 관계, e.g. "모", "변호사"

    def __post_init__(self) -> None:
        if self.kind not in get_args(AgentKind):
            raise InvalidInput(
                f"agent kind must be 법정대리인 or 위임, not {self.kind!r}", field="agent.kind"
            )


@dataclass(frozen=True, kw_only=True)
class Case:
    """The request the notice is about."""

    number: str  # "DSAR-2026-000123"; requester notices put it in the subject so replies thread
    right: Right  # the main right; a Korean name or English key is accepted
    rights: tuple[Right, ...] = ()  # every right asked for; empty: just `right`
    received_at: datetime  # aware
    due_date: date
    due_basis: tuple[str, ...] = ()  # how the due date was counted, one line each
    due_statutory: bool = True  # False: a "without delay" right; the due date is the internal target
    day_count: DayCount = "민법"  # which rule counted the days (민원처리법: public bodies, if it applies)
    channel: str | None = None  # email, web, phone, written, visit, fax, board, or free text
    requester: Requester = field(default_factory=Requester)
    agent: Agent | None = None
    details: str | None = None  # the requester's own words: untrusted
    stage: str | None = None  # current workflow stage, for staff e-mails

    def __post_init__(self) -> None:
        object.__setattr__(self, "right", _parse_right(self.right))
        rights = tuple(_parse_right(r) for r in self.rights) or (self.right,)
        if self.right not in rights:
            rights = (self.right, *rights)
        object.__setattr__(self, "rights", rights)
        _freeze(self, "due_basis")
        _require_aware(self.received_at, "case.received_at")
        if self.day_count not in get_args(DayCount):
            raise InvalidInput(f"case.day_count must be 민법 or 민원처리법, not {self.day_count!r}")


def _parse_right(value: Right | str) -> Right:
    try:
        return Right.parse(value)
    except ValueError:
        raise InvalidInput(f"unknown right {value!r}; use one of {', '.join(Right)}", field="right") from None


@dataclass(frozen=True, kw_only=True)
class LegalGround:
    """The provision a refusal rests on, e.g. article "개인정보 보호법 제35조제4항제1호"."""

    article: str
    text: str  # what the provision says, in plain words
    code: str | None = None  # the engine's key for the ground


@dataclass(frozen=True, kw_only=True)
class Access:
    """How, when and where the requester can see the data (열람 통지서)."""

    method: str  # e.g. "전자우편으로 사본 송부", "방문 열람"
    date_time: datetime | None = None  # aware
    place: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.date_time, "decision.access.date_time")


@dataclass(frozen=True, kw_only=True)
class RetentionRule:
    """A row of the policy's retention table that a deletion request ran into."""

    item: str
    period: str  # "5년"
    basis: str  # "전자상거래 등에서의 소비자보호에 관한 법률"


@dataclass(frozen=True, kw_only=True)
class Extension:
    """An extension of the answer period (자동화된 결정: up to 30 days, at most twice)."""

    days: int
    reason: str
    new_due: date
    count: int = 1  # which extension this is (1 or 2)


@dataclass(frozen=True, kw_only=True)
class Requirement:
    """What the requester must send (본인확인, 보완), and by when."""

    items: tuple[str, ...]
    deadline: date
    pauses_clock: bool = False  # the answer period stops running until the requester replies
    how: str | None = None  # how to send it, e.g. "이 메일에 회신하여 첨부"

    def __post_init__(self) -> None:
        _freeze(self, "items")


@dataclass(frozen=True, kw_only=True)
class Fee:
    """A fee for access (영 47): at most actual cost plus postage. No Fee: no charge is mentioned."""

    amount: int  # KRW
    basis: str | None = None
    payment: str | None = None  # how to pay

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise InvalidInput("fee.amount cannot be negative", field="decision.fee.amount")


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What was decided; which fields a kind needs is in `catalog.NOTICE_KINDS`."""

    outcome: Outcome | None = None
    reason: str | None = None  # why not (fully) granted: refusal, partial access, postponement
    legal_ground: LegalGround | None = None  # required for refusals
    items: tuple[str, ...] = ()  # data disclosed / corrected / deleted / stopped / sent; or points explained
    access: Access | None = None  # 열람 통지서
    withheld_items: tuple[str, ...] = ()  # partial access: what is not shown (reason in `reason`)
    retention_rules: tuple[RetentionRule, ...] = ()  # deletion refused under a retention law, item by item
    postponed_until: date | None = None
    extension: Extension | None = None
    required: Requirement | None = None  # 본인확인 / 보완 요청
    fee: Fee | None = None
    recipient: str | None = None  # 전송요구: who the data was sent to
    note: str | None = None  # one more paragraph from staff, shown as written

    def __post_init__(self) -> None:
        if self.outcome is not None and self.outcome not in OUTCOMES:
            raise InvalidInput(
                f"decision.outcome must be one of {sorted(OUTCOMES)}, not {self.outcome!r}",
                field="decision.outcome",
            )
        _freeze(self, "items", "withheld_items", "retention_rules")


@dataclass(frozen=True, kw_only=True)
class Staff:
    """The staff member an e-mail is about or addressed to."""

    name: str
    role: str | None = None  # "담당자", "개인정보 보호책임자"
    email: str | None = None


@dataclass(frozen=True, kw_only=True)
class CaseSummary:
    """One line of the daily digest."""

    number: str
    right: Right
    stage: str
    due_date: date
    days_left: int  # negative: overdue
    url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "right", _parse_right(self.right))


@dataclass(frozen=True, kw_only=True)
class NoticeContext:
    """Everything a notice is rendered from. `notice_date` is the date printed on it (never "today")."""

    org: Org
    notice_date: date
    case: Case | None = None  # all kinds but daily_digest
    decision: Decision | None = None
    staff: Staff | None = None
    cases: tuple[CaseSummary, ...] = ()  # daily_digest
    url: str | None = None  # the case in the staff console
    days_left: int | None = None  # reminder; None: counted from notice_date to case.due_date

    def __post_init__(self) -> None:
        _freeze(self, "cases")

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces, UTF-8 text; equal contexts give equal strings."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NoticeContext:
        return _build(cls, data, "context")

    @classmethod
    def from_json(cls, text: str) -> NoticeContext:
        return cls.from_dict(json.loads(text))


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_HINTS: dict[type, tuple[dict[str, Any], frozenset[str]]] = {}


def _plain(value: Any) -> Any:
    """JSON-ready data: dataclasses → dicts, tuples → lists, dates → ISO strings, rights → Korean names.

    Runs on every render (the stored context), so it dispatches on the exact type instead of asking
    dataclasses.asdict, which deep-copies."""
    kind = type(value)
    if value is None or kind in (str, int, bool, float):
        return value
    if kind in (tuple, list):
        return [_plain(v) for v in value]
    if kind is Right:
        return value.value
    if kind in (date, datetime):
        return value.isoformat()
    names = _FIELD_NAMES.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(kind):
            raise TypeError(f"cannot store {kind.__name__} in a notice context")
        names = _FIELD_NAMES[kind] = tuple(f.name for f in dataclasses.fields(kind))
    return {name: _plain(getattr(value, name)) for name in names}


def _build(tp: Any, value: Any, where: str) -> Any:
    """Turn plain JSON data back into the dataclasses, following the type hints."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _build(options[0], value, where)
    if value is None:
        raise InvalidInput(f"{where} is required", field=where)
    if origin is Literal or tp is Right or tp in (str, int, bool):
        return value
    if origin is tuple:
        return tuple(_build(get_args(tp)[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    if tp in (date, datetime):
        try:
            return tp.fromisoformat(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"{where} must be an ISO {tp.__name__}, not {value!r}", field=where) from None
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise InvalidInput(f"{where} must be an object", field=where)
        if tp not in _HINTS:  # resolving hints is slow and runs for every notice: once per class
            _HINTS[tp] = (get_type_hints(tp), frozenset(f.name for f in dataclasses.fields(tp)))
        hints, names = _HINTS[tp]
        unknown = set(value) - names
        if unknown:
            raise InvalidInput(f"{where} has unknown fields: {', '.join(sorted(unknown))}", field=where)
        try:
            return tp(**{k: _build(hints[k], v, f"{where}.{k}") for k, v in value.items()})
        except TypeError as exc:
            raise InvalidInput(f"{where}: {exc}", field=where) from None
    raise TypeError(f"no rule to build {tp!r}")  # a new field type was added without teaching _build
