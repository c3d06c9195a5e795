"""How long the deadline sweep takes on a large PostgreSQL database, and whether it grows with the number of
cases due or with the number open.

    .venv/bin/python bench/sweep_bench.py [--url postgresql://postgres:postgres@127.0.0.1:5432/dsar_bench_sweep]
                                          [--due 10000] [--small 100000] [--large 1000000] [--rounds 7]

It (re)creates its own database, migrates it, registers one organisation and bulk-loads open cases with COPY:
first `--small` of them, `--due` of which are due for a reminder today (D-3, D-1, the due day, overdue), and
times the sweep; then adds open cases that are not due until it holds `--large`, and times it again. The sweep
timed is the database work the beat task does each time it fires: `reminders.plan` (find today's reminders that
do not exist yet) and `verification.sweep`. Creating the notices is the workers' job, in chunks; its rate per
worker is printed too. Targets: one sweep ≤ 0.5 s with 1% of 1,000,000 open cases due, and
large/small ≤ 1.5 with the same number due.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres:postgres@127.0.0.1:5432/dsar_bench_sweep"
NOW = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)  # 09:30 in Seoul
SWEEP_TARGET, RATIO_TARGET = 0.5, 1.5
COLUMNS = ("number", "org_id", "workflow_version_id", "right", "rights", "stage", "closed", "not_a_request",
           "channel", "received_at", "due_date", "due_basis", "pauses", "extensions", "subject", "details",
           "classification", "assignee_id", "row_version", "created_at", "updated_at")


def recreate(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def register_org() -> tuple[int, int, int]:
    """One organisation with a 책임자 and a 담당자; returns (org id, workflow version id, 담당자 contact id)."""
    from sqlmodel import select

    from dsar.db import session_scope
    from dsar.models import ContactPerson
    from dsar.workflow.definitions import load_bases, resolve
    from dsar.workflow.registry import register

    org = {
        "schema": "dsar.workflow/v1", "kind": "organisation",
        "organisation": {"name": "벤치마크주식회사", "slug": "bench"},
        "contacts": [
            {"role": "책임자", "name": "김보호", "email": "officer@bench.example"},
            {"role": "담당자", "name": "이담당", "email": "desk@bench.example"},
        ],
        "verification": ["본인확인"],
        "rights": {"열람": {"base": "access"}},
    }
    with session_scope() as s:
        registered = register(s, resolve(org, load_bases()))
        desk = s.exec(select(ContactPerson.id).where(ContactPerson.role == "담당자")).one()
        return registered.org.id or 0, registered.version.id or 0, desk or 0


def load(url: str, *, start: int, count: int, due: int, today: date, ids: tuple[int, int, int]) -> None:
    """COPY `count` open cases numbered from `start`; the first `due` are due for a reminder today."""
    org_id, version_id, desk = ids
    due_days = [3, 1, 0, -1, -2, -5]  # D-3, D-1, due day, overdue by 1, 2 and 5 days
    received = NOW - timedelta(days=5)
    stamp = received.isoformat()
    from dsar.crypto import keyring  # subject and details hold ciphertext (dsar/crypto.py)

    no_text = keyring().encrypt_text("")
    lines = []
    for i in range(start, start + count):
        k = i - start
        offset = due_days[k % len(due_days)] if k < due else (2 if k % 10 == 0 else 4 + k % 40)  # D-2: no reminder
        row = (f"BENCH-{i:09d}", org_id, version_id, "열람", '["열람"]', "reviewing", "f", "f", "email", stamp,
               (today + timedelta(days=offset)).isoformat(), "{}", "[]", "[]", no_text, no_text, "{}", desk, 1,
               stamp, stamp)
        lines.append("\t".join(str(v) for v in row))
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        columns = ", ".join(f'"{c}"' for c in COLUMNS)
        with cur.copy(f"COPY request ({columns}) FROM STDIN") as copy:
            for j in range(0, len(lines), 50_000):
                copy.write("\n".join(lines[j:j + 50_000]) + "\n")
        conn.commit()
        cur.execute("ANALYZE request")
        conn.commit()


def time_sweep(rounds: int) -> tuple[float, float, int]:
    """Best and median seconds of the sweep's database work over `rounds` runs, and the reminders it planned.

    The ratio and the target are judged on the best run: other load on the machine only ever slows a run down."""
    from dsar import reminders, verification
    from dsar.clock import FixedClock
    from dsar.db import session_scope

    clock = FixedClock(NOW)
    times, planned = [], 0
    for _ in range(rounds + 1):
        with session_scope() as s:
            started = time.perf_counter()
            planned = len(reminders.plan(s, clock=clock))
            verification.sweep(s, clock=clock)
            times.append(time.perf_counter() - started)
    return min(times[1:]), statistics.median(times[1:]), planned  # the first run warms the caches


def explain(url: str, today: date) -> str:
    days = ", ".join(f"'{today + timedelta(days=d)}'" for d in (3, 1, 0))
    query = (f"EXPLAIN SELECT id, due_date FROM request WHERE closed = false AND "
             f"(due_date IN ({days}) OR due_date < '{today}')")
    with psycopg.connect(url) as conn:
        lines = [r[0].strip().lstrip("-> ") for r in conn.execute(query).fetchall()]
    return " / ".join(line.split("  (")[0] for line in lines if "Scan" in line)


def send_rate(limit: int) -> float:
    """Reminders created per second by one process (what one worker does with a chunk)."""
    from dsar import reminders
    from dsar.clock import FixedClock
    from dsar.db import session_scope

    clock = FixedClock(NOW)
    with session_scope() as s:
        items = reminders.plan(s, clock=clock)[:limit]
        started = time.perf_counter()
        reminders.send_all(s, items, clock=clock)
        return len(items) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    os.environ.update({"DSAR_DATABASE_URL": args.url, "DSAR_ENV": "test", "DSAR_CELERY_EAGER": "1"})
    from dsar.calendar_kr import kst_date
    from dsar.db import upgrade

    today = kst_date(NOW)
    recreate(args.url)
    upgrade()
    ids = register_org()

    started = time.perf_counter()
    load(args.url, start=0, count=args.small, due=args.due, today=today, ids=ids)
    print(f"loaded {args.small:,} open cases ({args.due:,} due) in {time.perf_counter() - started:.1f} s")
    small, small_median, planned_small = time_sweep(args.rounds)
    started = time.perf_counter()
    load(args.url, start=args.small, count=args.large - args.small, due=0, today=today, ids=ids)
    print(f"loaded {args.large - args.small:,} more open cases (none due) in {time.perf_counter() - started:.1f} s")
    large, large_median, planned_large = time_sweep(args.rounds)
    assert planned_small == planned_large, (planned_small, planned_large)

    ratio = large / small
    print(f"query plan: {explain(args.url, today)}")
    for label, n, best, median, planned in (("small", args.small, small, small_median, planned_small),
                                             ("large", args.large, large, large_median, planned_large)):
        verdict = f"   target ≤ {SWEEP_TARGET * 1000:.0f} ms: {'met' if best <= SWEEP_TARGET else 'NOT MET'}" \
            if label == "large" else ""
        print(f"sweep over {n:>9,} open, {args.due:,} due ({planned:,} reminders): best {best * 1000:6.1f} ms, "
              f"median {median * 1000:6.1f} ms{verdict}")
    print(f"ratio large/small (best): {ratio:.2f}, (median): {large_median / small_median:.2f}   "
          f"target ≤ {RATIO_TARGET}: {'met' if ratio <= RATIO_TARGET else 'NOT MET'}")
    print(f"creating reminders (one worker, rendered, audited, committed one by one): {send_rate(500):.0f}/s")
    return 0 if large <= SWEEP_TARGET and ratio <= RATIO_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
