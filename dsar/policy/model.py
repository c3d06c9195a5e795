"""What the extractor hands back: every value carries the source lines it was read from.

An operator imports a policy once and then relies on it for every request (who signs notices, which retention
items block a deletion). Keeping line numbers on each value lets the import screen show the sentence behind
each field, so a wrong guess is caught by a person rather than discovered in a notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RIGHTS_ORDER = ("열람", "정정", "삭제", "처리정지", "동의철회", "전송요구", "자동화결정")
CHANNEL_ORDER = ("email", "phone", "written", "web", "board", "fax", "visit")
VERIFICATION_ORDER = ("본인확인", "법정대리인", "위임장", "로그인", "본인인증")
CONTACT_FIELDS = ("name", "title", "department", "phone", "email")


@dataclass(frozen=True, slots=True)
class Found:
    """A value read from the policy and the 1-based lines it came from."""

    value: str
    lines: tuple[int, ...]


def _value(found: Found | None) -> str | None:
    return found.value if found else None


def _lines(found: Found | None) -> list[int]:
    return list(found.lines) if found else []


@dataclass(slots=True)
class Contact:
    """A 개인정보 보호책임자 (role 책임자) or a 담당자 / 담당부서 (role 담당자)."""

    role: str
    role_lines: tuple[int, ...] = ()
    name: Found | None = None
    title: Found | None = None
    department: Found | None = None
    phone: Found | None = None
    email: Found | None = None

    def is_empty(self) -> bool:
        return not any(getattr(self, f) for f in CONTACT_FIELDS)

    def to_json(self) -> dict[str, str | None]:
        return {"role": self.role, **{f: _value(getattr(self, f)) for f in CONTACT_FIELDS}}

    def evidence(self) -> dict[str, list[int]]:
        return {"role": list(self.role_lines), **{f: _lines(getattr(self, f)) for f in CONTACT_FIELDS}}


@dataclass(frozen=True, slots=True)
class RetentionItem:
    """Something kept after its purpose ends: what, for how long, and why (a law or the stated reason)."""

    item: Found
    period: Found
    basis: Found | None = None

    def key(self) -> tuple[str, str, str | None]:
        return (self.item.value, self.period.value, _value(self.basis))

    def to_json(self) -> dict[str, str | None]:
        return {"item": self.item.value, "period": self.period.value, "basis": _value(self.basis)}

    def evidence(self) -> dict[str, list[int]]:
        return {"item": _lines(self.item), "period": _lines(self.period), "basis": _lines(self.basis)}


@dataclass(slots=True)
class ComplaintBody:
    """An outside body the policy points people to (침해신고센터, 분쟁조정위원회, 검찰, 경찰)."""

    name: Found
    url: Found | None = None
    phone: Found | None = None

    def to_json(self) -> dict[str, str | None]:
        return {"name": self.name.value, "url": _value(self.url), "phone": _value(self.phone)}

    def evidence(self) -> dict[str, list[int]]:
        return {"name": _lines(self.name), "url": _lines(self.url), "phone": _lines(self.phone)}


@dataclass(frozen=True, slots=True)
class Channel:
    """One way the policy says a request can be made; `value` is the address, number or menu named."""

    kind: str
    value: str
    lines: tuple[int, ...]


@dataclass(slots=True)
class PolicyDates:
    announced: Found | None = None
    effective: Found | None = None
    last_changed: Found | None = None

    def to_json(self) -> dict[str, str | None]:
        return {k: _value(getattr(self, k)) for k in ("announced", "effective", "last_changed")}

    def evidence(self) -> dict[str, list[int]]:
        return {k: _lines(getattr(self, k)) for k in ("announced", "effective", "last_changed")}


@dataclass(slots=True)
class PolicyExtract:
    """Structured reading of one 개인정보 처리방침; `to_json()` is the contract other code relies on."""

    source: str
    org: Found | None = None
    slug: Found | None = None
    rights: dict[str, tuple[int, ...]] = field(default_factory=dict)
    channels: list[Channel] = field(default_factory=list)
    verification: dict[str, tuple[int, ...]] = field(default_factory=dict)
    contacts: list[Contact] = field(default_factory=list)
    retention: list[RetentionItem] = field(default_factory=list)
    complaint_bodies: list[ComplaintBody] = field(default_factory=list)
    dates: PolicyDates = field(default_factory=PolicyDates)
    warnings: list[str] = field(default_factory=list)

    @property
    def channel_kinds(self) -> list[str]:
        kinds = {c.kind for c in self.channels}
        return [k for k in CHANNEL_ORDER if k in kinds]

    def to_json(self) -> dict[str, Any]:
        return {
            "org": _value(self.org),
            "slug": _value(self.slug),
            "rights": [r for r in RIGHTS_ORDER if r in self.rights],
            "channels": self.channel_kinds,
            "verification": [v for v in VERIFICATION_ORDER if v in self.verification],
            "contacts": [c.to_json() for c in self.contacts],
            "retention": [r.to_json() for r in self.retention],
            "complaint_bodies": [b.to_json() for b in self.complaint_bodies],
            "dates": self.dates.to_json(),
            "warnings": list(self.warnings),
            "evidence": self.evidence(),
        }

    def evidence(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "org": _lines(self.org),
            "slug": _lines(self.slug),
            "rights": {r: list(self.rights[r]) for r in RIGHTS_ORDER if r in self.rights},
            "channels": [{"kind": c.kind, "value": c.value, "lines": list(c.lines)} for c in self.channels],
            "verification": {
                v: list(self.verification[v]) for v in VERIFICATION_ORDER if v in self.verification
            },
            "contacts": [c.evidence() for c in self.contacts],
            "retention": [r.evidence() for r in self.retention],
            "complaint_bodies": [b.evidence() for b in self.complaint_bodies],
            "dates": self.dates.evidence(),
        }
