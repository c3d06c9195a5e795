"""The bar's tamper suite: 1,000 random single tamperings of a realistic audit log, every one found by verify
at the right first broken event.

The log: a few hundred events on three chains (two organisations and `system`), written in many transactions
through `audit.record`, with signed anchors taken along the way (the newest events come after the last anchor,
as in production between two daily anchors). Each trial makes one tampering inside a transaction, runs the same
check as `dsar audit verify` in that transaction, and rolls back:

- edit one field of one row; delete one row; insert one well-formed forged row (renumbering those after it);
  swap two rows' contents (same chain or across chains);
- what only anchors catch: a tail rewritten with every hash recomputed and the head fixed, a tail cut off with
  the head fixed, and a whole chain deleted with its head.

A rewrite after the last anchor cannot be caught by anything in the system (that is what the next anchor is
for), so rewrites start at or before a chain's last anchored event. The generator is seeded: a failure names
its trial and reproduces. SQLite runs the 1,000; PostgreSQL a sample of 150.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlmodel import Session

from dsar import audit, audit_anchors
from dsar.clock import FixedClock
from dsar.db import get_engine, session_scope
from dsar.models import AuditEvent, AuditHead

EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
HEADS = AuditHead.__table__  # type: ignore[attr-defined]
CONTENT = ("at", "actor", "action", "org_id", "request_id", "details", "prev_hash", "hash")
START = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)
ACTIONS = [("request.viewed", "staff:desk@testorg.example"), ("request.transition", "staff:boss@testorg.example"),
           ("notice.rendered", "scheduler"), ("notice.sent", "outbox"), ("note.added", "staff:desk@testorg.example"),
           ("verification.code_issued", "verification")]
SYSTEM = [("auth.login", "staff:desk@testorg.example"), ("auth.login_failed", "staff:x@example.com"),
          ("inbound.stored", "webhook"), ("auth.logout", "staff:desk@testorg.example")]


def build_log(anchors: Path, rng: random.Random) -> None:
    """250 events in 25 transactions over three chains; anchors after transactions 8, 16 and 22."""
    at = START
    for tx in range(1, 26):
        with session_scope() as s:
            for _ in range(10):
                at += timedelta(minutes=rng.randint(1, 90))
                org = rng.choice([1, 1, 2, None])
                action, actor = rng.choice(SYSTEM if org is None else ACTIONS)
                case = rng.randint(1, 40) if org else None
                audit.record(s, action, actor=actor, org_id=org, request_id=case, at=at,
                             details={"via": rng.choice(["user", "token"]), "n": rng.randint(0, 9)})
        if tx in (8, 16, 22):
            with session_scope() as s:
                audit_anchors.write(s, clock=FixedClock(at + timedelta(minutes=1)), path=anchors)


@dataclass(frozen=True)
class Row:
    id: int
    chain: str
    seq: int
    values: dict[str, Any]


class Log:
    """The untampered log as the tamperings see it: rows per chain in order, and what the anchors saw."""

    def __init__(self, conn: Connection, anchors: Path) -> None:
        rows = [Row(r.id, r.chain, r.seq, {k: getattr(r, k) for k in CONTENT})
                for r in conn.execute(select(EVENTS).order_by(EVENTS.c.chain, EVENTS.c.seq))]
        self.rows = rows
        self.chains: dict[str, list[Row]] = {}
        for r in rows:
            self.chains.setdefault(r.chain, []).append(r)
        self.anchored: dict[str, set[int]] = {}
        for c in audit_anchors.read(anchors).checkpoints():
            self.anchored.setdefault(c.chain, set()).add(c.seq)

    def at(self, chain: str, seq: int) -> Row:
        return self.chains[chain][seq - 1]

    def last_anchored(self, chain: str) -> int:
        return max(self.anchored.get(chain, {0}))


Expected = dict[str, Any]  # {"id", "chain", "seq"} of the first broken event, and optionally "anchor": True
Tamper = Callable[[Connection, Log, random.Random], Expected]


def _changed(column: str, value: Any) -> Any:
    if column == "at":
        return value + timedelta(seconds=1)
    if column in ("org_id", "request_id"):
        return 1 if value is None else value + 1
    if column == "details":
        return {**value, "tampered": True}
    if column in ("prev_hash", "hash"):
        return value[:-1] + ("0" if value[-1] != "0" else "1")
    return value + "x"


def edit_field(conn: Connection, log: Log, rng: random.Random) -> Expected:
    row = rng.choice(log.rows)
    column = rng.choice(CONTENT)
    conn.execute(update(EVENTS).where(EVENTS.c.id == row.id).values({column: _changed(column, row.values[column])}))
    return {"id": row.id, "chain": row.chain, "seq": row.seq}


def delete_row(conn: Connection, log: Log, rng: random.Random) -> Expected:
    row = rng.choice(log.rows)
    conn.execute(delete(EVENTS).where(EVENTS.c.id == row.id))
    chain = log.chains[row.chain]
    if row.seq == len(chain):  # the last one: nothing follows, the head (or an anchor) says it existed
        return {"id": None, "chain": row.chain, "seq": row.seq}
    after = log.at(row.chain, row.seq + 1)
    return {"id": after.id, "chain": row.chain, "seq": after.seq}


def insert_forged(conn: Connection, log: Log, rng: random.Random) -> Expected:
    """A well-formed event slipped in after position `p` (0: first), those after it renumbered."""
    chain = rng.choice(sorted(log.chains))
    rows = log.chains[chain]
    p = rng.randint(0, len(rows) - 1)
    prev = rows[p - 1] if p else None
    where = (EVENTS.c.chain == chain) & (EVENTS.c.seq > p)
    conn.execute(update(EVENTS).where(where).values(seq=EVENTS.c.seq + 1_000_000))
    conn.execute(update(EVENTS).where(EVENTS.c.chain == chain, EVENTS.c.seq > 1_000_000)
                 .values(seq=EVENTS.c.seq - 999_999))
    forged = {"chain": chain, "seq": p + 1, "at": rows[p].values["at"], "actor": "mallory", "action": "request.viewed",
              "org_id": rows[p].values["org_id"], "request_id": None, "details": {},
              "prev_hash": prev.values["hash"] if prev else audit.GENESIS}
    forged["hash"] = audit.event_hash(AuditEvent(**forged))
    new_id = conn.execute(insert(EVENTS).values(forged).returning(EVENTS.c.id)).scalar_one()
    conn.execute(update(HEADS).where(HEADS.c.chain == chain).values(seq=HEADS.c.seq + 1))
    if p + 1 in log.anchored.get(chain, set()):  # an anchor saw another event at that place
        return {"id": new_id, "chain": chain, "seq": p + 1, "anchor": True}
    return {"id": rows[p].id, "chain": chain, "seq": p + 2}


def swap_rows(conn: Connection, log: Log, rng: random.Random) -> Expected:
    """Exchange the contents of two rows, each keeping its id, chain and number."""
    a, b = rng.sample(log.rows, 2)
    for target, source in ((a, b), (b, a)):
        conn.execute(update(EVENTS).where(EVENTS.c.id == target.id).values(source.values))
    if a.chain == b.chain:
        first = min(a, b, key=lambda r: r.seq)
    else:
        first = min(a, b, key=lambda r: r.id)
    return {"id": first.id, "chain": first.chain, "seq": first.seq}


def rewrite_tail(conn: Connection, log: Log, rng: random.Random) -> Expected:
    """Edit event k, then recompute every hash from k to the end and fix the head: the chain itself verifies."""
    chain = rng.choice(sorted(log.anchored))
    k = rng.randint(1, log.last_anchored(chain))
    conn.execute(update(EVENTS).where(EVENTS.c.id == log.at(chain, k).id).values(actor="mallory"))
    prev = log.at(chain, k - 1).values["hash"] if k > 1 else audit.GENESIS
    relinked = []
    for row in log.chains[chain][k - 1:]:
        values = dict(row.values, chain=chain, seq=row.seq, prev_hash=prev)
        if row.seq == k:
            values["actor"] = "mallory"
        prev = audit.event_hash(SimpleNamespace(**values))  # type: ignore[arg-type]
        relinked.append({"row_id": row.id, "new_prev": values["prev_hash"], "new_hash": prev})
    conn.execute(update(EVENTS).where(EVENTS.c.id == bindparam("row_id"))
                 .values(prev_hash=bindparam("new_prev"), hash=bindparam("new_hash")), relinked)
    conn.execute(update(HEADS).where(HEADS.c.chain == chain).values(hash=prev))
    m = min(s for s in log.anchored[chain] if s >= k)
    return {"id": log.at(chain, m).id, "chain": chain, "seq": m, "anchor": True}


def cut_tail(conn: Connection, log: Log, rng: random.Random) -> Expected:
    """Delete every event after k and move the head back to k: the chain itself verifies."""
    chain = rng.choice(sorted(log.anchored))
    k = rng.randint(0, log.last_anchored(chain) - 1)
    conn.execute(delete(EVENTS).where(EVENTS.c.chain == chain, EVENTS.c.seq > k))
    head = log.at(chain, k).values["hash"] if k else audit.GENESIS
    conn.execute(update(HEADS).where(HEADS.c.chain == chain).values(seq=k, hash=head))
    return {"id": None, "chain": chain, "seq": k + 1, "anchor": True}


def drop_chain(conn: Connection, log: Log, rng: random.Random) -> Expected:
    chain = rng.choice(sorted(log.anchored))
    conn.execute(delete(EVENTS).where(EVENTS.c.chain == chain))
    conn.execute(delete(HEADS).where(HEADS.c.chain == chain))
    return {"id": None, "chain": chain, "seq": 1, "anchor": True}


TAMPERINGS: list[Tamper] = [edit_field, delete_row, insert_forged, swap_rows, rewrite_tail, cut_tail, drop_chain]


def test_every_random_single_tampering_is_found_at_the_first_broken_event(db: str, tmp_path: Path) -> None:
    trials = 1000 if db.startswith("sqlite") else 150
    rng = random.Random(20261125)
    anchors = tmp_path / "anchors.jsonl"
    build_log(anchors, rng)
    engine = get_engine()
    with engine.connect() as conn:
        log = Log(conn, anchors)
    assert len(log.chains) == 3 and len(log.rows) == 250
    assert all(len(log.chains[c]) > log.last_anchored(c) > 0 for c in log.chains)  # events after the last anchor
    seen: dict[str, int] = {}
    for trial in range(trials):
        tamper = rng.choice(TAMPERINGS)
        seen[tamper.__name__] = seen.get(tamper.__name__, 0) + 1
        with engine.connect() as conn:
            transaction = conn.begin()
            expected = tamper(conn, log, rng)
            with Session(bind=conn) as session:
                report = audit_anchors.verify(session, anchors)
            transaction.rollback()
        context = f"trial {trial} ({tamper.__name__}): {report.broken}"
        assert not report.ok and report.broken is not None, context
        got = {k: report.broken[k] for k in ("id", "chain", "seq")}
        assert got == {k: expected[k] for k in ("id", "chain", "seq")}, f"{context}, expected {expected}"
        assert ("앵커" in report.broken["reason"]) == bool(expected.get("anchor")), context
    assert set(seen) == {t.__name__ for t in TAMPERINGS}
    with session_scope() as s:  # every trial was rolled back: the log is whole again
        assert audit_anchors.verify(s, anchors).ok
