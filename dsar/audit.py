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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col, select

from dsar.models import AuditEvent, AuditHead, utcnow

GENESIS = "0" * 64


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
    rows = []
    for chain in sorted(by_chain):
        events = by_chain[chain]
        seq, prev = _reserve(session, chain, len(events))
        for e in events:
            seq += 1
            e.update(seq=seq, prev_hash=prev)
            e["hash"] = prev = _hash(e)
            rows.append(e)
        session.execute(update(AuditHead).where(col(AuditHead.chain) == chain).values(hash=prev))
    session.execute(insert(AuditEvent), rows)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (a rollback): its events go with it
        session.info.pop(_PENDING, None)


def _reserve(session: Session, chain: str, count: int) -> tuple[int, str]:
    """Move the chain's head `count` places on (taking its row lock); returns the seq and hash before."""
    bump = (update(AuditHead).where(col(AuditHead.chain) == chain).values(seq=AuditHead.seq + count)
            .returning(AuditHead.seq, AuditHead.hash))
    row = session.execute(bump).first()
    if row is None:
        insert_head = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert_head(AuditHead).values(chain=chain, seq=0, hash=GENESIS).on_conflict_do_nothing())
        row = session.execute(bump).one()
    return row[0] - count, row[1]


@dataclass
class ChainReport:
    ok: bool
    chains: int
    events: int
    broken: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "chains": self.chains, "events": self.events, "first_broken": self.broken}


def verify(session: Session) -> ChainReport:
    """Recompute every chain; report the first event (lowest id) where one breaks."""
    heads = {h.chain: h for h in session.exec(select(AuditHead))}
    chains = sorted(set(heads) | set(session.exec(select(AuditEvent.chain).distinct())))
    total, breaks = 0, []
    for chain in chains:
        prev, expected_seq = GENESIS, 1
        events = session.exec(select(AuditEvent).where(AuditEvent.chain == chain).order_by(col(AuditEvent.seq)))
        for e in events:
            total += 1
            reason = None
            if e.seq != expected_seq:
                reason = f"순번이 {expected_seq}이어야 하는데 {e.seq}입니다 (an event is missing or was inserted)"
            elif e.prev_hash != prev:
                reason = "이전 해시가 맞지 않습니다 (the event before it was changed, removed or reordered)"
            elif event_hash(e) != e.hash:
                reason = "내용이 해시와 맞지 않습니다 (the event was edited)"
            if reason:
                breaks.append({"id": e.id, "chain": chain, "seq": e.seq, "action": e.action, "reason": reason})
                break
            prev, expected_seq = e.hash, expected_seq + 1
        else:
            head = heads.get(chain)
            if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
                breaks.append({
                    "id": None, "chain": chain, "seq": expected_seq,
                    "action": None, "reason": "체인 끝의 사건이 삭제되었습니다 (events were cut from the end)",
                })
    breaks.sort(key=lambda b: (b["id"] is None, b["id"] or 0))
    return ChainReport(ok=not breaks, chains=len(chains), events=total, broken=breaks[0] if breaks else None)


def events_for(session: Session, request_id: int) -> list[AuditEvent]:
    flush(session)
    query = select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(col(AuditEvent.id))
    return list(session.exec(query))
