"""Append-only, hash-chained audit log.

One chain per organisation (`org:<id>`) plus `system` for events that belong to none (unrouted mail, logins):
organisations proceed in parallel, and one organisation's log can be exported and verified on its own. Each
event's hash covers its own fields and the previous event's hash, so an edit, deletion, insertion or
reordering breaks the chain at that point. Writers first bump the chain's head row, which serialises them on
both SQLite and PostgreSQL, so two transactions can never fork a chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
    body = {
        "chain": e.chain, "seq": e.seq, "at": _stamp(e.at), "actor": e.actor, "action": e.action,
        "org_id": e.org_id, "request_id": e.request_id, "details": e.details, "prev": e.prev_hash,
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
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with the change it records)."""
    chain = chain_for(org_id)
    bump = update(AuditHead).where(col(AuditHead.chain) == chain).values(seq=AuditHead.seq + 1)
    if session.exec(bump).rowcount == 0:  # type: ignore[call-overload]
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.exec(insert(AuditHead).values(chain=chain, seq=0, hash=GENESIS).on_conflict_do_nothing())  # type: ignore[call-overload]
        session.exec(bump)  # type: ignore[call-overload]
    head = session.exec(
        select(AuditHead).where(AuditHead.chain == chain).execution_options(populate_existing=True)
    ).one()
    event = AuditEvent(
        chain=chain, seq=head.seq, at=at or utcnow(),
        actor=actor, action=action, org_id=org_id, request_id=request_id, details=details or {},
        prev_hash=head.hash,
    )
    event.hash = event_hash(event)
    head.hash = event.hash
    session.add(event)
    session.add(head)
    session.flush()
    return event


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
    query = select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(col(AuditEvent.id))
    return list(session.exec(query))
