"""Append-only, hash-chained audit log.

One chain per organisation (`org:<id>`) plus `system` for events that belong to none (unrouted mail, logins):
organisations proceed in parallel, and one organisation's log can be exported and verified on its own. Each
event's hash covers its own fields and the previous event's hash, so an edit, deletion, insertion or
reordering breaks the chain at that point. Events are chained at commit: the transaction bumps the chain's head
row then, which serialises writers on both SQLite and PostgreSQL, so two transactions can never fork a chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, event, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from dsar.models import AuditEvent, AuditHead, utcnow

HEADS: Table = AuditHead.__table__  # type: ignore[attr-defined]
EVENTS: Table = AuditEvent.__table__  # type: ignore[attr-defined]

GENESIS = "0" * 64


ACTION_LABELS = {  # every action the log records, in Korean (reports, the case timeline)
    "request.opened": "사건 접수", "request.transition": "단계 변경", "request.viewed": "사건 열람",
    "request.reassigned": "담당자 변경", "request.reply_received": "요청인 회신 수신", "request.corrected": "분류 정정",
    "note.added": "메모 작성", "notice.rendered": "통지서 작성", "notice.approved": "통지서 승인",
    "notice.send_requested": "발송 요청", "notice.sent": "통지 발송", "notice.failed": "통지 발송 실패",
    "notice.bounced": "통지 반송", "notice.reclaimed": "중단된 발송 재시도", "notice.previewed": "통지서 미리보기",
    "notice.withdrawn": "발송 전 통지 취소(정정본으로 대체)",
    "notice.downloaded": "통지서 내려받기", "attachment.downloaded": "첨부파일 내려받기",
    "inbound.stored": "수신 메시지 보관", "inbound.quarantined": "수신 메시지 격리",
    "inbound.not_a_request": "요구 아님 분류", "inbound.viewed": "수신 메시지 열람",
    "inbound.reprocessed": "수신 메시지 다시 처리",
    "intake.staff_entry": "직원 접수 입력",
    "verification.started": "본인확인 시작", "verification.code_issued": "인증번호 발급",
    "verification.code_accepted": "인증번호 확인", "verification.code_rejected": "인증번호 불일치",
    "verification.login_confirmed": "로그인 본인확인", "verification.document_checked": "신분증 확인",
    "verification.checklist_ticked": "대리인 확인 항목 점검", "verification.sms_sent": "인증 문자 발송",
    "verification.sms_failed": "인증 문자 발송 실패", "workflow.registered": "처리 절차 등록",
    "auth.login": "로그인", "auth.login_failed": "로그인 실패", "auth.logout": "로그아웃",
    "staff.created": "계정 생성", "staff.updated": "계정 변경", "staff.password_set": "비밀번호 설정",
    "staff.role_changed": "권한 변경", "token.created": "API 토큰 발급", "token.revoked": "API 토큰 폐기",
    "request.purged": "사건 파기", "inbound.purged": "수신 메시지 파기",
    "audit.exported": "감사 기록 내보내기", "audit.reviewed": "접속기록 점검",
}


def label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def chain_for(org_id: int | None) -> str:
    return f"org:{org_id}" if org_id is not None else "system"


def _stamp(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(e: AuditEvent) -> str:
    return _hash({"chain": e.chain, "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                  "org_id": e.org_id, "request_id": e.request_id, "details": e.details, "prev_hash": e.prev_hash})


def _hash(e: dict[str, Any]) -> str:
    body = {
        "chain": e["chain"], "seq": e["seq"], "at": _stamp(e["at"]), "actor": e["actor"], "action": e["action"],
        "org_id": e["org_id"], "request_id": e["request_id"], "details": e["details"], "prev": e["prev_hash"],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def record(
    session: Session,
    action: str,
    *,
    actor: str,
    org_id: int | None = None,
    request_id: int | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one event to the caller's transaction: it is chained and written when the transaction commits
    (`_write_pending`), so it commits or rolls back with the change it records."""
    event = {"chain": chain_for(org_id), "at": at or utcnow(), "actor": actor, "action": action, "org_id": org_id,
             "request_id": request_id, "details": details or {}}
    session.info.setdefault(_PENDING, []).append(event)


def flush(session: Session) -> None:
    """Write the transaction's recorded events now (for a reader in the same transaction)."""
    _write_pending(session)


_PENDING = "dsar.audit.pending"


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """Chain and insert the events recorded in this transaction, one head update per chain.

    The chain's head row is locked here, at the end of the transaction, so concurrent writers queue only for the
    few statements of the commit instead of for the whole transaction. Chains are taken in sorted order, so two
    transactions that touch the same chains cannot deadlock."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    by_chain: dict[str, list[dict[str, Any]]] = {}
    for e in pending:
        by_chain.setdefault(e["chain"], []).append(e)
    session.flush()  # the changes the events record go first; from here on plain statements on the connection
    conn = session.connection()
    rows = []
    for chain in sorted(by_chain):
        events = by_chain[chain]
        seq, prev = _reserve(conn, chain, len(events))
        for e in events:
            seq += 1
            e.update(seq=seq, prev_hash=prev)
            e["hash"] = prev = _hash(e)
            rows.append(e)
        conn.execute(_SET_HASH, {"c": chain, "h": prev})
    conn.execute(_INSERT_EVENTS, rows)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (a rollback): its events go with it
        session.info.pop(_PENDING, None)


# built once: every transaction that records an event runs them (building a statement costs as much as running it)
_BUMP = (update(HEADS).where(HEADS.c.chain == bindparam("c")).values(seq=HEADS.c.seq + bindparam("n"))
         .returning(HEADS.c.seq, HEADS.c.hash))
_SET_HASH = update(HEADS).where(HEADS.c.chain == bindparam("c")).values(hash=bindparam("h"))
_INSERT_EVENTS = insert(EVENTS)


def _reserve(conn: Connection, chain: str, count: int) -> tuple[int, str]:
    """Move the chain's head `count` places on (taking its row lock); returns the seq and hash before."""
    row = conn.execute(_BUMP, {"c": chain, "n": count}).first()
    if row is None:
        insert_head = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(insert_head(HEADS).values(chain=chain, seq=0, hash=GENESIS).on_conflict_do_nothing())
        row = conn.execute(_BUMP, {"c": chain, "n": count}).one()
    return row[0] - count, row[1]


@dataclass(frozen=True)
class Checkpoint:
    """What a signed anchor saw: event `seq` of `chain` had `hash` when anchor number `anchor` was written."""

    chain: str
    seq: int
    hash: str
    anchor: int


@dataclass
class ChainReport:
    ok: bool
    chains: int
    events: int
    broken: dict[str, Any] | None
    anchors: int = 0
    anchor_problems: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "chains": self.chains, "events": self.events, "first_broken": self.broken,
                "anchors": self.anchors, "anchor_problems": self.anchor_problems}


def verify(session: Session, checkpoints: Iterable[Checkpoint] = ()) -> ChainReport:
    """Recompute every chain and hold it against the anchors' checkpoints; report the first event (lowest id)
    where one breaks. A chain an anchor saw but that has no events left is walked too (all of it was deleted)."""
    flush(session)  # events recorded in this transaction but not yet committed are part of the chain too
    heads = {h.chain: h for h in session.exec(select(AuditHead).execution_options(populate_existing=True))}
    anchored: dict[str, dict[int, list[Checkpoint]]] = {}
    for c in checkpoints:
        anchored.setdefault(c.chain, {}).setdefault(c.seq, []).append(c)
    chains = sorted(set(heads) | set(session.exec(select(AuditEvent.chain).distinct())) | set(anchored))
    total, breaks = 0, []
    for chain in chains:
        events, broken = _walk(session, chain, heads.get(chain), anchored.get(chain, {}))
        total += events
        if broken:
            breaks.append(broken)
    breaks.sort(key=lambda b: (b["id"] is None, b["id"] or 0))
    return ChainReport(ok=not breaks, chains=len(chains), events=total, broken=breaks[0] if breaks else None)


def _walk(
    session: Session, chain: str, head: AuditHead | None, anchored: dict[int, list[Checkpoint]]
) -> tuple[int, dict[str, Any] | None]:
    """(events read, the first break) of one chain, in sequence order."""
    prev, expected_seq, confirmed, count = GENESIS, 1, 0, 0
    columns = [getattr(AuditEvent, name) for name in EXPORT_FIELDS]  # plain rows: no ORM objects to build
    query = select(*columns).where(AuditEvent.chain == chain).order_by(col(AuditEvent.seq))
    with closing(session.exec(query.execution_options(yield_per=2000))) as rows:  # streamed, closed on a break
        for e in rows:
            count += 1
            reason = _link_fault(e, expected_seq, prev) or _anchor_fault(e, anchored.get(e.seq, []), confirmed)
            if reason:
                return count, {"id": e.id, "chain": chain, "seq": e.seq, "action": e.action, "reason": reason}
            confirmed = e.seq if e.seq in anchored else confirmed
            prev, expected_seq = e.hash, expected_seq + 1
    last = max(anchored, default=0)
    if last >= expected_seq:
        n = anchored[last][0].anchor
        reason = (f"앵커 #{n}에는 순번 {last}까지 기록되어 있는데 {expected_seq}번부터 없습니다 "
                  f"(events anchored by #{n} were deleted)")
    elif head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        reason = "체인 끝의 사건이 삭제되었습니다 (events were cut from the end)"
    else:
        return count, None
    return count, {"id": None, "chain": chain, "seq": expected_seq, "action": None, "reason": reason}


def _link_fault(e: Any, expected_seq: int, prev: str) -> str | None:
    if e.seq != expected_seq:
        return f"순번이 {expected_seq}이어야 하는데 {e.seq}입니다 (an event is missing or was inserted)"
    if e.prev_hash != prev:
        return "이전 해시가 맞지 않습니다 (the event before it was changed, removed or reordered)"
    if event_hash(e) != e.hash:
        return "내용이 해시와 맞지 않습니다 (the event was edited)"
    return None


def _anchor_fault(e: Any, checkpoints: list[Checkpoint], confirmed: int) -> str | None:
    """An event that hashes and links correctly but differs from an anchor: the chain was recomputed after it."""
    for c in checkpoints:
        if c.hash != e.hash:
            span = f"순번 {confirmed + 1}~{e.seq} 사이의" if confirmed + 1 < e.seq else f"순번 {e.seq}의"
            return (f"앵커 #{c.anchor}에 기록된 해시와 다릅니다: {span} 사건이 다시 쓰였습니다 "
                    f"(the chain was rewritten after anchor #{c.anchor})")
    return None


EXPORT_FIELDS = ("id", "chain", "seq", "at", "actor", "action", "org_id", "request_id", "details", "prev_hash", "hash")


def as_hashed(e: AuditEvent) -> dict[str, Any]:
    """Every stored field of an event, `at` written exactly as the hash covers it: what an export carries, so a
    reader can recompute each hash and follow the chain without the database."""
    row = {k: getattr(e, k) for k in EXPORT_FIELDS}
    row["at"] = _stamp(e.at)
    return row


def events_for(session: Session, request_id: int) -> list[AuditEvent]:
    flush(session)
    query = select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(col(AuditEvent.id))
    return list(session.exec(query))
