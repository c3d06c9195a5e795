"""The audit log is a hash chain: every edit, deletion, insertion or reordering is found by verify."""

from __future__ import annotations

import json
import random

import pytest
from sqlalchemy import text
from sqlmodel import select

from dsar import audit
from dsar.db import get_engine, session_scope
from dsar.models import AuditEvent


def _write(n: int, org_id: int | None = None) -> None:
    with session_scope() as s:
        for i in range(n):
            audit.record(s, "test.event", actor="tester", org_id=org_id, details={"i": i})


def _verify() -> audit.ChainReport:
    with session_scope() as s:
        return audit.verify(s)


def test_untouched_chains_verify(db: str) -> None:
    _write(5)
    _write(3, org_id=7)
    report = _verify()
    assert report.ok and report.chains == 2 and report.events == 8


def test_each_chain_numbers_its_events_and_links_to_the_previous_hash(db: str) -> None:
    _write(3)
    with session_scope() as s:
        events = list(s.exec(select(AuditEvent).order_by(AuditEvent.seq)))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


@pytest.mark.parametrize("attack", ["edit", "delete", "swap", "truncate", "insert"])
def test_tampering_is_detected_at_the_first_broken_event(db: str, attack: str) -> None:
    _write(10)
    engine = get_engine()
    with engine.begin() as conn:
        if attack == "edit":
            conn.execute(text("UPDATE auditevent SET actor = 'mallory' WHERE seq = 4"))
        elif attack == "delete":
            conn.execute(text("DELETE FROM auditevent WHERE seq = 4"))
        elif attack == "swap":  # exchange the contents of events 4 and 5, keeping their numbers
            query = text("SELECT seq, details, hash, prev_hash FROM auditevent WHERE seq IN (4, 5)")
            rows = {r.seq: r for r in conn.execute(query)}
            for a, b in ((4, 5), (5, 4)):
                details = rows[b].details
                details = json.dumps(details) if isinstance(details, dict) else details
                conn.execute(text("UPDATE auditevent SET details = :d, hash = :h, prev_hash = :p WHERE seq = :s"),
                             {"d": details, "h": rows[b].hash, "p": rows[b].prev_hash, "s": a})
        elif attack == "truncate":
            conn.execute(text("DELETE FROM auditevent WHERE seq >= 9"))
        elif attack == "insert":  # make room after event 5 and forge a well-formed event there
            conn.execute(text("UPDATE auditevent SET seq = seq + 1000 WHERE seq >= 6"))
            conn.execute(text("UPDATE auditevent SET seq = seq - 999 WHERE seq >= 1000"))
            prev = conn.execute(text("SELECT hash FROM auditevent WHERE seq = 5")).scalar()
            forged = AuditEvent(chain="system", seq=6, actor="mallory", action="test.event", details={},
                                prev_hash=prev)
            forged.hash = audit.event_hash(forged)
            conn.execute(text("INSERT INTO auditevent (chain, seq, at, actor, action, details, prev_hash, hash) "
                              "VALUES ('system', 6, :at, 'mallory', 'test.event', '{}', :p, :h)"),
                         {"at": forged.at, "p": prev, "h": forged.hash})
    report = _verify()
    assert not report.ok
    expected_seq = {"edit": 4, "delete": 5, "swap": 4, "truncate": 9, "insert": 7}[attack]
    assert report.broken is not None and report.broken["seq"] == expected_seq


def test_random_single_edits_are_all_detected(db: str) -> None:
    _write(30)
    rng = random.Random(7)
    engine = get_engine()
    for _ in range(20):
        seq = rng.randint(1, 30)
        column, value = rng.choice([("actor", "'x'"), ("action", "'y'"), ("request_id", "99")])
        with engine.begin() as conn:
            before = conn.execute(text(f"SELECT {column} FROM auditevent WHERE seq = {seq}")).scalar()
            conn.execute(text(f"UPDATE auditevent SET {column} = {value} WHERE seq = {seq}"))
        report = _verify()
        assert not report.ok and report.broken and report.broken["seq"] == seq
        with engine.begin() as conn:  # put it back for the next round
            conn.execute(text(f"UPDATE auditevent SET {column} = :v WHERE seq = {seq}"), {"v": before})
        assert _verify().ok
