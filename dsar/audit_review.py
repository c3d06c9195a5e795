"""The monthly review of access records (접속기록 점검, 개인정보의 안전성 확보조치 기준): for one month and one
organisation (or all), who looked at or took out which cases' personal data and how often, audit-log exports,
sign-ins and their failures, and account and token changes, with accesses outside working hours counted and the
integrity of the log itself checked. Built from the audit log alone; `dsar audit review` writes it as Markdown
or CSV and records that the review was made (audit.reviewed), which is the evidence of the monthly check.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from dsar import audit_anchors
from dsar.audit import ChainReport, label
from dsar.auth.models import StaffUser
from dsar.calendar_kr import KST, KoreanCalendar
from dsar.errors import InvalidInput
from dsar.letters.filters import korean_date, korean_datetime
from dsar.models import AuditEvent, Organisation, Request

ACCESS = ("request.viewed", "notice.previewed", "notice.downloaded", "attachment.downloaded", "inbound.viewed",
          "verification.document_checked")
SIGN_IN = ("auth.login", "auth.login_failed", "auth.logout")
ACCOUNT = ("staff.created", "staff.updated", "staff.password_set", "staff.role_changed", "token.created",
           "token.revoked")
EXPORT = "audit.exported"
FAILURE_LABELS = {"unknown": "없는 계정", "bad_password": "비밀번호 불일치", "locked_now": "실패 누적으로 잠김",
                  "locked": "잠긴 계정", "inactive": "사용 중지 계정"}
WORKING_HOURS = (time(9), time(18))  # accesses outside these hours, or on a closed day, are counted apart




def parse_month(value: str) -> date:
    try:
        first = date.fromisoformat(f"{value.strip()}-01")
    except ValueError:
        raise InvalidInput(f"--month {value!r}은(는) 월이 아닙니다: 2026-11처럼 쓰세요 (expected YYYY-MM)",
                           field="month") from None
    return first


@dataclass
class Access:
    """One person's accesses to one case (or one stored message)."""

    actor: str
    target: str
    counts: Counter[str] = field(default_factory=Counter)
    first: datetime | None = None
    last: datetime | None = None


@dataclass
class Person:
    actor: str
    name: str
    accesses: int = 0
    targets: set[str] = field(default_factory=set)
    exports: int = 0
    logins: int = 0
    logouts: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    off_hours: int = 0


@dataclass
class Review:
    month: date
    scope: str  # "테스트주식회사 (testorg)" or "전체 조직"
    made_at: datetime
    retention_days: int
    integrity: ChainReport
    people: dict[str, Person] = field(default_factory=dict)
    accesses: dict[tuple[str, str], Access] = field(default_factory=dict)
    exports: list[AuditEvent] = field(default_factory=list)
    changes: list[AuditEvent] = field(default_factory=list)

    @property
    def last_day(self) -> date:
        following = date(self.month.year + self.month.month // 12, self.month.month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)


def build(session: Session, *, month: date, org: Organisation | None, made_at: datetime,
          retention_days: int, calendar: KoreanCalendar) -> Review:
    review = Review(month=month.replace(day=1), scope=f"{org.name} ({org.slug})" if org else "전체 조직",
                    made_at=made_at, retention_days=retention_days, integrity=audit_anchors.verify(session))
    staff = {f"staff:{u.email}": u for u in session.exec(select(StaffUser))}
    numbers: dict[int, str] = {}
    for e in session.exec(_events(review, org, staff)):
        if e.action in ACCOUNT:
            review.changes.append(e)
            continue
        person = review.people.get(e.actor) or Person(e.actor, staff[e.actor].name if e.actor in staff else "")
        review.people[e.actor] = person
        if e.action in ACCESS:
            _count_access(session, review, person, e, numbers, calendar)
        elif e.action == EXPORT:
            person.exports += 1
            review.exports.append(e)
        else:
            _count_sign_in(person, e)
    return review


def _events(review: Review, org: Organisation | None, staff: dict[str, StaffUser]) -> SelectOfScalar[AuditEvent]:
    start = datetime.combine(review.month, time(0), KST)
    end = datetime.combine(date.fromordinal(review.last_day.toordinal() + 1), time(0), KST)
    query = (select(AuditEvent)
             .where(col(AuditEvent.at) >= start, col(AuditEvent.at) < end,
                    col(AuditEvent.action).in_((*ACCESS, *SIGN_IN, *ACCOUNT, EXPORT)))
             .order_by(col(AuditEvent.at), col(AuditEvent.id)))
    if org is not None:  # the organisation's chain, plus its own staff's sign-ins (kept on the system chain)
        own = [actor for actor, user in staff.items() if user.org_id == org.id]
        query = query.where(or_(col(AuditEvent.org_id) == org.id,
                                and_(col(AuditEvent.org_id).is_(None), col(AuditEvent.actor).in_(own))))
    return query


def _count_access(session: Session, review: Review, person: Person, e: AuditEvent, numbers: dict[int, str],
                  calendar: KoreanCalendar) -> None:
    if e.request_id is not None:
        if e.request_id not in numbers:
            case = session.get(Request, e.request_id)
            numbers[e.request_id] = (case.number if case else None) or f"사건 #{e.request_id}"
        target = numbers[e.request_id]
    else:
        target = f"수신 메시지 #{e.details.get('inbound_id', '?')}"
    access = review.accesses.setdefault((e.actor, target), Access(e.actor, target))
    access.counts[e.action] += 1
    access.first, access.last = access.first or e.at, e.at
    person.accesses += 1
    person.targets.add(target)
    moment = e.at.astimezone(KST)
    if calendar.is_closed(moment.date()) or not WORKING_HOURS[0] <= moment.time() < WORKING_HOURS[1]:
        person.off_hours += 1


def _count_sign_in(person: Person, e: AuditEvent) -> None:
    if e.action == "auth.login":
        person.logins += 1
    elif e.action == "auth.logout":
        person.logouts += 1
    else:
        reason = str(e.details.get("reason", ""))
        person.failures[FAILURE_LABELS.get(reason, reason or "알 수 없음")] += 1


def change_summary(e: AuditEvent) -> str:
    """What an account or token change did, from its details (ids, role, flags; never a password)."""
    shown = {k: v for k, v in e.details.items() if k not in ("contact_id",)}
    return ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "-"


def markdown(review: Review) -> str:
    month = f"{review.month.year}년 {review.month.month}월"
    integrity = review.integrity
    check = (f"정상 (체인 {integrity.chains}개, 사건 {integrity.events}건, 앵커 {integrity.anchors}개 대조)"
             if integrity.ok else "손상 발견: `dsar audit verify`로 확인하세요")
    out = [
        f"# 개인정보 접속기록 월간 점검 보고서: {month}",
        "",
        f"- 대상: {review.scope}",
        f"- 기간: {korean_date(review.month)} ~ {korean_date(review.last_day)} (한국 시간)",
        f"- 작성: {korean_datetime(review.made_at)}",
        "- 근거: 개인정보의 안전성 확보조치 기준 (접속기록 월 1회 이상 점검, 위·변조 방지)",
        f"- 보관 기간: {review.retention_days}일 이상 (감사 기록은 삭제하지 않습니다)",
        f"- 위·변조 점검: {check}",
        "",
        "## 1. 처리자별 요약",
        "",
    ]
    out += _table(["처리자", "개인정보 열람", "열람 대상 수", "업무시간 외 열람", "감사 기록 내보내기", "로그인",
                   "로그인 실패", "로그아웃"],
                  [[_who(p), p.accesses, len(p.targets), p.off_hours, p.exports, p.logins, sum(p.failures.values()),
                    p.logouts] for p in sorted(review.people.values(), key=lambda p: p.actor)])
    out += ["", "## 2. 사건별 개인정보 열람·내려받기", ""]
    out += _table(["처리자", "대상", "내용", "처음", "마지막"],
                  [[a.actor, a.target, ", ".join(f"{label(k)} {n}회" for k, n in _in_order(a.counts)),
                    _short(a.first), _short(a.last)] for a in sorted(review.accesses.values(),
                                                                    key=lambda a: (a.actor, a.target))])
    out += ["", "## 3. 감사 기록 내보내기", ""]
    out += _table(["시각", "처리자", "범위"], [[_short(e.at), e.actor, _export_scope(e)] for e in review.exports])
    out += ["", "## 4. 로그인 실패", ""]
    out += _table(["계정", "실패 사유와 횟수"],
                  [[p.actor, ", ".join(f"{reason} {n}회" for reason, n in sorted(p.failures.items()))]
                   for p in sorted(review.people.values(), key=lambda p: p.actor) if p.failures])
    out += ["", "## 5. 계정·권한 변경", ""]
    out += _table(["시각", "처리자", "변경", "내용"],
                  [[_short(e.at), e.actor, label(e.action), change_summary(e)] for e in review.changes])
    out += ["", "## 6. 점검 의견", "", "- 점검자:", "- 점검일:", "- 조치 사항:", ""]
    return "\n".join(out)


def csv_text(review: Review) -> str:
    """One row per finding: section, who, what, which case, how many, first and last time (Seoul)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["구분", "처리자", "항목", "대상", "횟수", "처음", "마지막"])
    for a in sorted(review.accesses.values(), key=lambda a: (a.actor, a.target)):
        for action, n in _in_order(a.counts):
            writer.writerow(["개인정보 열람", a.actor, label(action), a.target, n, _short(a.first), _short(a.last)])
    for e in review.exports:
        writer.writerow(["감사 기록 내보내기", e.actor, label(e.action), _export_scope(e), 1, _short(e.at),
                         _short(e.at)])
    for p in sorted(review.people.values(), key=lambda p: p.actor):
        for item, n in (("로그인", p.logins), ("로그아웃", p.logouts),
                        *((f"로그인 실패: {reason}", n) for reason, n in sorted(p.failures.items()))):
            if n:
                writer.writerow(["로그인", p.actor, item, "", n, "", ""])
        if p.off_hours:
            writer.writerow(["업무시간 외 열람", p.actor, "업무시간 외 개인정보 열람", "", p.off_hours, "", ""])
    for e in review.changes:
        writer.writerow(["계정·권한 변경", e.actor, label(e.action), change_summary(e), 1, _short(e.at), _short(e.at)])
    return "\ufeff" + buf.getvalue()


def _in_order(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: ACCESS.index(item[0]))


def _who(p: Person) -> str:
    return f"{p.name} ({p.actor})" if p.name else p.actor


def _export_scope(e: AuditEvent) -> str:
    d = e.details
    parts = [f"사건 {d['case']}" if d.get("case") else "", "전체 체인" if d.get("chains") == "all" else
             ", ".join(d.get("chains") or []), f"{d.get('from') or '처음'} ~ {d.get('to') or '끝'}"
             if d.get("from") or d.get("to") else "", str(d.get("format") or "")]
    return " / ".join(p for p in parts if p)


def _short(at: datetime | None) -> str:
    return at.astimezone(KST).strftime("%Y-%m-%d %H:%M") if at else ""


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    if not rows:
        return ["(없음)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ") for v in row) + " |" for row in rows]
    return lines
