"""`dsar audit anchor|verify|export` run as an operator runs them (a real subprocess on a real SQLite file).

Cases are opened on chosen Korean days around a month's edges; the commands run with a simulated "now"
(DSAR_CLOCK_FILE, 2026-12-05) so that their own audit events fall outside the ranges exported.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from dsar import audit, audit_anchors
from dsar.calendar_kr import KST
from dsar.clock import FixedClock, write_clock_file
from dsar.db import session_scope
from dsar.models import AuditEvent, AuditHead, Request
from tests.api.test_audit_export import rehash
from tests.cli import dsar, dsar_json
from tests.test_assignment import open_case, register_variant

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
DAYS = {"oct31": datetime(2026, 10, 31, 23, 30, tzinfo=KST), "nov1": datetime(2026, 11, 1, 0, 30, tzinfo=KST),
        "nov30": datetime(2026, 11, 30, 23, 59, tzinfo=KST), "dec1": datetime(2026, 12, 1, 0, 1, tzinfo=KST)}


@pytest.fixture
def env(db: str, tmp_path: Path) -> dict[str, str]:
    clock = tmp_path / "now.txt"
    write_clock_file(clock, datetime(2026, 12, 5, 10, 0, tzinfo=KST))
    return {"DSAR_DATABASE_URL": db, "DSAR_DATA_DIR": str(tmp_path / "var"), "DSAR_CLOCK_FILE": str(clock)}


@pytest.fixture
def cases(testorg: int) -> dict[str, str]:
    """One case opened on each day of DAYS in testorg, and one in another organisation on 1 November."""
    ids = {day: open_case(testorg, clock=FixedClock(at)) for day, at in DAYS.items()}
    ids["other"] = open_case(register_variant("otherorg"), clock=FixedClock(DAYS["nov1"]))
    with session_scope() as s:
        numbers = {r.id: r.number for r in s.exec(select(Request))}
    return {day: numbers[i] or "" for day, i in ids.items()}


def rewrite_system_tail_from(seq: int) -> None:
    """What someone with write access to the database can do: change event `seq` of the system chain and
    recompute every hash after it, and the head, so that the chain verifies again."""
    with session_scope() as s:
        events = list(s.exec(select(AuditEvent).where(AuditEvent.chain == "system").order_by(col(AuditEvent.seq))))
        prev = events[seq - 2].hash if seq > 1 else audit.GENESIS
        for e in events[seq - 1:]:
            e.actor = "staff:mallory@example.com" if e.seq == seq else e.actor
            e.prev_hash = prev
            e.hash = prev = audit.event_hash(e)
            s.add(e)
        head = s.get(AuditHead, "system")
        assert head is not None
        head.hash = prev
        s.add(head)


def write_system_events(n: int) -> None:
    with session_scope() as s:
        for i in range(n):
            audit.record(s, "auth.login", actor="staff:desk@testorg.example", details={"user_id": i})


def test_anchor_prints_the_line_it_appends_and_verify_checks_it(env: dict[str, str]) -> None:
    write_system_events(3)
    proc = dsar("audit", "anchor", env=env)
    line = audit_anchors.log_path().read_text().splitlines()[-1]
    assert proc.stdout.strip() == line and "앵커 #1 기록 (system 순번 3)" in proc.stderr
    assert json.loads(line)["at"] == "2026-12-05T01:00:00Z"  # the command's clock
    report = dsar_json("audit", "verify", env=env)
    assert report["ok"] is True and report["anchors"] == 1 and report["anchor_problems"] == []
    assert "감사 체인 정상: 체인 1개, 사건 3건, 앵커 1개 대조" in dsar("audit", "verify", env=env).stdout


def test_verify_exits_1_naming_the_event_where_a_rewritten_tail_meets_an_anchor(env: dict[str, str]) -> None:
    write_system_events(5)
    dsar("audit", "anchor", env=env)
    write_system_events(2)
    rewrite_system_tail_from(2)
    proc = dsar("audit", "verify", env=env, check=False)
    with session_scope() as s:
        fifth = s.exec(select(AuditEvent.id).where(AuditEvent.chain == "system", AuditEvent.seq == 5)).one()
    assert proc.returncode == 1
    assert proc.stdout.strip() == (f"감사 체인 손상: 사건 id={fifth} (체인 system, 순번 5, auth.login): "
                                   "앵커 #1에 기록된 해시와 다릅니다: 순번 1~5 사이의 사건이 다시 쓰였습니다 "
                                   "(the chain was rewritten after anchor #1)")


def test_an_outside_copy_of_the_anchors_catches_anchors_cut_from_the_end(env: dict[str, str], tmp_path: Path) -> None:
    write_system_events(2)
    dsar("audit", "anchor", env=env)
    write_system_events(3)
    dsar("audit", "anchor", env=env)
    outside = tmp_path / "sent-elsewhere.jsonl"
    shutil.copy(audit_anchors.log_path(), outside)
    local = audit_anchors.log_path()
    local.write_text(local.read_text().splitlines(keepends=True)[0])  # mallory drops the newest anchor ...
    rewrite_system_tail_from(3)  # ... and rewrites what only it covered
    assert dsar("audit", "verify", env=env).returncode == 0  # the local file cannot tell any more
    proc = dsar("audit", "verify", "--anchors", str(outside), env=env, check=False)
    assert proc.returncode == 1 and "순번 5, auth.login): 앵커 #2에 기록된 해시와 다릅니다" in proc.stdout
    missing = dsar("audit", "verify", "--anchors", str(tmp_path / "nope.jsonl"), env=env, check=False)
    assert missing.returncode == 2 and "앵커 파일" in missing.stderr


def test_verify_exits_1_when_a_chain_was_deleted_whole_after_an_anchor(env: dict[str, str]) -> None:
    write_system_events(2)
    dsar("audit", "anchor", env=env)
    with session_scope() as s:
        for row in [*s.exec(select(AuditEvent)), s.get(AuditHead, "system")]:
            s.delete(row)
    proc = dsar("audit", "verify", env=env, check=False)
    assert proc.returncode == 1
    assert proc.stdout.strip() == ("감사 체인 손상: 체인 system, 순번 1부터: 앵커 #1에는 순번 2까지 기록되어 있는데 "
                                   "1번부터 없습니다 (events anchored by #1 were deleted)")


def test_verify_reports_an_edited_anchor_line(env: dict[str, str]) -> None:
    write_system_events(2)
    dsar("audit", "anchor", env=env)
    path = audit_anchors.log_path()
    path.write_text(path.read_text().replace('"seq": 2', '"seq": 1'))
    proc = dsar("audit", "verify", env=env, check=False)
    assert proc.returncode == 1
    assert proc.stdout.strip() == ("감사 앵커 손상: 앵커 #1 (1번째 줄): 서명이 맞지 않습니다 (bad signature: the line "
                                   "was edited or forged, or signed with another key)")


def exported(env: dict[str, str], *args: str) -> list[dict]:
    return [json.loads(line) for line in dsar("audit", "export", *args, env=env).stdout.splitlines()]


def acknowledged(events: list[dict]) -> set[str]:
    """The cases whose acknowledgement was written in the export (stamped with the time the case arrived)."""
    with session_scope() as s:
        numbers = {r.id: r.number for r in s.exec(select(Request))}
    return {numbers[e["request_id"]] for e in events if e["action"] == "notice.rendered"}


def test_export_of_a_korean_date_range_holds_those_days_and_verifies_on_its_own(
    env: dict[str, str], cases: dict[str, str]
) -> None:
    events = exported(env, "--from", "2026-11-01", "--to", "2026-11-30")
    assert acknowledged(events) == {cases["nov1"], cases["nov30"], cases["other"]}
    assert all(rehash(e) == e["hash"] for e in events)
    by_place = {(e["chain"], e["seq"]): e for e in events}
    linked = [(e, by_place[e["chain"], e["seq"] - 1]) for e in events if (e["chain"], e["seq"] - 1) in by_place]
    assert linked and all(e["prev_hash"] == before["hash"] for e, before in linked)
    with session_scope() as s:
        recorded = s.exec(select(AuditEvent).where(AuditEvent.action == "audit.exported")).one()
    assert (recorded.actor, recorded.details["from"], recorded.details["to"]) == ("cli", "2026-11-01", "2026-11-30")


def test_export_by_organisation_and_case_in_csv(env: dict[str, str], cases: dict[str, str], tmp_path: Path) -> None:
    org = exported(env, "--org", "testorg", "--from", "2026-11-01")
    assert {e["chain"] for e in org} == {"org:1"}
    assert acknowledged(org) == {cases["nov1"], cases["nov30"], cases["dec1"]}
    out = tmp_path / "case.csv"
    proc = dsar("audit", "export", "--case", cases["oct31"], "--format", "csv", "--out", str(out), env=env)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8").lstrip("\ufeff"))))
    with session_scope() as s:
        case_id = s.exec(select(Request.id).where(Request.number == cases["oct31"])).one()
    assert {r["request_id"] for r in rows} == {str(case_id)}
    assert rows[-1]["action"] == "audit.exported" and f"{len(rows)}건 → {out}" in proc.stderr
    assert all(len(r["hash"]) == len(r["prev_hash"]) == 64 for r in rows)


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--from", "2026-13-01"], 2, "2026-11-01처럼"),
    (["--from", "2026-11-30", "--to", "2026-11-01"], 2, "늦습니다"),
    (["--format", "xml"], 2, "jsonl 또는 csv"),
    (["--org", "nosuch"], 1, "찾을 수 없습니다"),
    (["--org", "otherorg", "--case", "{oct31}"], 2, "사건이 아닙니다"),
])
def test_export_refuses_bad_input_with_a_clear_message(env: dict[str, str], cases: dict[str, str], args: list[str],
                                                       code: int, message: str) -> None:
    proc = dsar("audit", "export", *[a.format(**cases) for a in args], env=env, check=False)
    assert proc.returncode == code and message in proc.stderr, proc.stderr
