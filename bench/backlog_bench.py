"""A backlog after a breach: N requests stored and queued while no worker runs, then the workers start.

    .venv/bin/python bench/backlog_bench.py [--n 10000] [--workers 1] [--concurrency 2] [--probes 30] [--json] [--keep]

Set-up: N request e-mails (bench/intake_bench.py's, one right each) are posted to the webhook (`POST
/intake/email`, uvicorn in a subprocess) of a database of its own (`dsar_backlog_bench`, created and dropped here)
while no Celery worker runs: every message is stored and its intake task waits on Redis (DB 13). The API is
stopped, then the workers are started with bench/intake_bench.py's command (`-Q intake,notices`).

Measured:
- drain: seconds from starting the workers until every request is acknowledged (접수 확인 created), and until
  every acknowledgement is delivered (mail transport "file");
- fairness: acknowledgement order against receipt order, as the displacement |receipt rank - acknowledgement
  rank| of each request (largest, p99, p50); the window it should stay within is what the worker processes hold
  at once (processes x intake batch size);
- starvation: while the backlog drains, staff follow-up on the oldest open cases (본인확인 시작, then 보완 요청,
  whose notice goes to the `notices` queue) every `--probe-every` seconds; printed: each follow-up notice's time
  from commit to sent, how many requests still waited for their acknowledgement when it was committed, and how
  many were sent before the backlog had drained. Also the delivery delay of the earliest tenth of the
  acknowledgements (created → sent) while later intake was still waiting.

Before it reports, the bench checks that nothing was lost or doubled: N stored once and processed, one case and
one acknowledgement per message, every acknowledgement and follow-up notice sent once (outbox files).
Targets: all acknowledged within 60 s of starting the workers; displacement within the window; every follow-up
sent within 5 s of its commit (not behind the backlog); worker processes < 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import intake_bench  # noqa: E402  (bench/ is not a package)
from intake_bench import (  # noqa: E402
    RssSampler,
    bench_run,
    build_messages,
    post_all,
    prepare_schema,
    start_api,
    start_workers,
    stop,
    wait_for,
)

REDIS_URL = os.environ.get("DSAR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
DB_NAME = "dsar_backlog_bench"
TARGET_DRAIN_S, TARGET_FOLLOW_UP_S, TARGET_RSS_MB = 60.0, 5.0, 200.0
ACKS = "SELECT count(*) FROM notice WHERE kind = 'acknowledgement'"
SUPPLEMENT_REASON = "보내 주신 신분증 사본의 글자를 읽을 수 없습니다. 선명한 사본을 다시 보내 주시기 바랍니다."


# -- the backlog ----------------------------------------------------------------------------------------------


def fill_backlog(n: int, clients: int, env: dict[str, str], work: Path) -> tuple[float, int]:
    """Post N messages through the webhook with no worker running; returns seconds and intake tasks waiting."""
    import redis

    address = prepare_schema()
    messages = build_messages(n, address, run=str(int(time.time())))
    port = intake_bench._free_port()
    api = start_api(port, 1, env, work)
    try:
        seconds, failures, _resends = asyncio.run(post_all(messages, port, clients))
    finally:
        stop([api])
    if failures:
        raise RuntimeError(f"{len(failures)} posts were refused: {sorted(set(failures))}")
    with redis.Redis.from_url(REDIS_URL) as client:
        return seconds, int(client.llen("intake"))


# -- staff follow-up while the backlog drains -----------------------------------------------------------------


@dataclass
class Probe:
    notice_id: int
    committed_at: float  # wall clock, epoch seconds


def follow_up_oldest() -> Probe | None:
    """The oldest case still at 접수: start its identity check and ask for a better copy of the ID (a notice to
    the requester), commit, and hand the notice to the outbox as staff actions do."""
    from sqlmodel import col, select

    from dsar import engine
    from dsar.db import session_scope
    from dsar.models import Notice, Request
    from tasks.notices import queue_delivery

    with session_scope() as session:
        case = session.exec(select(Request).where(Request.stage == "received")
                            .order_by(col(Request.received_at), col(Request.id)).limit(1)).first()
        if case is None:
            return None
        engine.advance(session, case, "start_verification", actor="staff:bench")
        engine.advance(session, case, "request_supplement", actor="staff:bench", reason=SUPPLEMENT_REASON)
        notice_id = session.exec(select(Notice.id).where(Notice.request_id == case.id,
                                                         Notice.kind == "supplement_request")).one()
    committed_at = time.time()
    queue_delivery([notice_id])
    return Probe(notice_id, committed_at)


def drain_with_probes(n: int, probes: int, every: float, timeout: float) -> list[Probe]:
    """Wait until N acknowledgements exist, following up one old case every `every` seconds meanwhile."""
    done: list[Probe] = []
    deadline = time.monotonic() + timeout
    while wait_for(ACKS, n, 0) < n and time.monotonic() < deadline:
        if len(done) < probes:
            probe = follow_up_oldest()
            if probe is not None:
                done.append(probe)
        time.sleep(every)
    return done


# -- figures --------------------------------------------------------------------------------------------------


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))] if values else 0.0


def backlog_figures(started_at: float, probes: list[Probe]) -> dict[str, object]:
    from sqlalchemy import text

    from dsar.db import get_engine

    with get_engine().connect() as conn:
        rows = conn.execute(text(
            "SELECT m.id, m.received_at, n.created_at, n.sent_at, n.id FROM notice n "
            "JOIN request r ON n.request_id = r.id JOIN inboundmessage m ON r.inbound_id = m.id "
            "WHERE n.kind = 'acknowledgement'")).all()
        follow = {nid: sent for nid, sent in conn.execute(text(
            "SELECT id, sent_at FROM notice WHERE kind = 'supplement_request'")).all()}
        checks = conn.execute(text(
            "SELECT (SELECT count(*) FROM inboundmessage), (SELECT count(DISTINCT message_id) FROM inboundmessage), "
            "(SELECT count(*) FROM inboundmessage WHERE status = 'processed'), (SELECT count(*) FROM request), "
            "(SELECT count(*) FROM (SELECT inbound_id FROM request GROUP BY inbound_id HAVING count(*) > 1) d), "
            "(SELECT count(*) FROM notice WHERE kind = 'acknowledgement'), "
            "(SELECT count(DISTINCT request_id) FROM notice WHERE kind = 'acknowledgement'), "
            "(SELECT count(*) FROM notice WHERE kind = 'acknowledgement' AND status = 'sent'), "
            "(SELECT count(*) FROM notice WHERE kind = 'supplement_request' AND status = 'sent')")).one()
    by_receipt = sorted(rows, key=lambda r: (r[1], r[0]))
    ack_rank = {r[0]: rank for rank, r in enumerate(sorted(rows, key=lambda r: (r[2], r[4])))}
    shift = sorted(abs(rank - ack_rank[r[0]]) for rank, r in enumerate(by_receipt))
    last_ack = max(r[2] for r in rows).timestamp()
    last_sent = max((r[3] for r in rows if r[3] is not None), default=None)
    early = by_receipt[:max(1, len(rows) // 10)]
    early_delay = sorted((r[3] - r[2]).total_seconds() for r in early if r[3] is not None)
    probe_delay = sorted(follow[p.notice_id].timestamp() - p.committed_at if follow.get(p.notice_id) else
                         float("inf") for p in probes)
    waiting = sorted(sum(1 for r in rows if r[2].timestamp() > p.committed_at) for p in probes)
    in_time = sum(1 for p in probes if follow.get(p.notice_id) is not None
                  and follow[p.notice_id].timestamp() <= last_ack)
    return {
        "drain_s": last_ack - started_at,
        "delivered_s": last_sent.timestamp() - started_at if last_sent else float("inf"),
        "shift_max": shift[-1] if shift else 0, "shift_p99": _quantile(shift, 0.99),
        "shift_p50": statistics.median(shift) if shift else 0,
        "early_ack_delivery_p50_s": statistics.median(early_delay) if early_delay else float("inf"),
        "early_ack_delivery_max_s": early_delay[-1] if early_delay else float("inf"),
        "early_acks_sent_before_drained": sum(1 for r in early if r[3] is not None and r[3].timestamp() <= last_ack),
        "early_acks": len(early),
        "probes": len(probes), "probes_sent_before_drained": in_time,
        "probe_p50_s": statistics.median(probe_delay) if probe_delay else float("inf"),
        "probe_max_s": probe_delay[-1] if probe_delay else float("inf"),
        "probe_backlog_p50": statistics.median(waiting) if waiting else 0,
        "probe_backlog_max": waiting[-1] if waiting else 0,
        "checks": {"stored": checks[0], "distinct_message_ids": checks[1], "processed": checks[2],
                   "cases": checks[3], "messages_with_two_cases": checks[4], "acks": checks[5],
                   "cases_with_ack": checks[6], "acks_sent": checks[7], "follow_ups_sent": checks[8]},
    }


# -- main -----------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="requests in the backlog (default 10,000)")
    ap.add_argument("--workers", type=int, default=1, help="Celery worker processes (each -c CONCURRENCY)")
    ap.add_argument("--concurrency", type=int, default=2, help="pool processes per worker (default 2)")
    ap.add_argument("--clients", type=int, default=32, help="concurrent HTTP connections filling the backlog")
    ap.add_argument("--probes", type=int, default=30, help="staff follow-ups made while the backlog drains")
    ap.add_argument("--probe-every", type=float, default=1.0, help="seconds between follow-ups (default 1)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the backlog to drain")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the bench database and the temporary folder")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    with bench_run(DB_NAME, REDIS_URL, "dsar-backlog-bench-", keep=args.keep) as run:
        fill_seconds, waiting_tasks = fill_backlog(args.n, args.clients, run.env, run.work)
        from dsar.settings import get_settings

        batch = get_settings().intake_batch_size
        started_at = time.time()
        workers = start_workers(args.workers, args.concurrency, run.env, run.work)
        ready_s = time.time() - started_at
        run.procs += workers
        sampler = RssSampler([w.pid for w in workers])
        sampler.start()
        probes = drain_with_probes(args.n, args.probes, args.probe_every, args.timeout)
        expected_files = args.n + len(probes)
        wait_for("SELECT count(*) FROM notice WHERE status = 'sent'", expected_files, max(60.0, args.timeout / 4))
        sampler.done.set()
        sampler.join()
        load_after = os.getloadavg()[0]
        figures = backlog_figures(started_at, probes)
        delivered_files = len(list((run.work / "var" / "outbox").glob("*.eml")))

    checks = figures["checks"]
    assert isinstance(checks, dict)
    intact = (checks["stored"] == checks["distinct_message_ids"] == checks["processed"] == args.n
              and checks["cases"] == checks["acks"] == checks["cases_with_ack"] == checks["acks_sent"] == args.n
              and checks["messages_with_two_cases"] == 0 and checks["follow_ups_sent"] == len(probes)
              and delivered_files == expected_files)
    window = args.workers * args.concurrency * batch
    rss_mb = sampler.peak_kb / 1024
    result = {
        "n": args.n, "cpus": os.cpu_count(), "load_before": load_before, "load_after": load_after,
        "workers": args.workers, "concurrency": args.concurrency, "intake_batch_size": batch,
        "fill_s": fill_seconds, "intake_tasks_waiting": waiting_tasks, "workers_ready_s": ready_s,
        **{k: v for k, v in figures.items() if k != "checks"}, "window": window, "worker_peak_rss_mb": rss_mb,
        "checks": {**checks, "delivered_files": delivered_files, "expected_files": expected_files,
                   "intact": intact},
        "targets_met": {
            "drain": float(figures["drain_s"]) <= TARGET_DRAIN_S,  # type: ignore[arg-type]
            "order": float(figures["shift_max"]) <= window,  # type: ignore[arg-type]
            "no_starvation": bool(probes) and float(figures["probe_max_s"]) <= TARGET_FOLLOW_UP_S,  # type: ignore[arg-type]
            "worker_rss": rss_mb < TARGET_RSS_MB,
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result)
    return 0 if intact else 1


def report(r: dict) -> None:  # type: ignore[type-arg]
    met = r["targets_met"]

    def verdict(key: str) -> str:
        return "met" if met[key] else "NOT MET"

    print(f"backlog             {r['n']:,} requests stored and queued with no worker running "
          f"({r['fill_s']:.1f} s through the webhook; {r['intake_tasks_waiting']} intake tasks waiting, "
          f"{r['n'] / max(1, r['intake_tasks_waiting']):.1f} messages each)")
    print(f"workers             {r['workers']} x -c {r['concurrency']} (queues intake,notices), intake batch "
          f"{r['intake_batch_size']}; ready {r['workers_ready_s']:.1f} s after start")
    print(f"machine             {r['cpus']} CPUs, load average {r['load_before']:.1f} before, "
          f"{r['load_after']:.1f} after (other processes share the CPUs)")
    print(f"all acknowledged    {r['drain_s']:8.1f} s after starting the workers "
          f"({r['n'] / r['drain_s']:.0f} requests/s)   target <= {TARGET_DRAIN_S:.0f} s: {verdict('drain')}")
    print(f"all delivered       {r['delivered_s']:8.1f} s after starting the workers")
    print(f"order               displacement |receipt rank - acknowledgement rank|: max {r['shift_max']}, "
          f"p99 {r['shift_p99']}, p50 {r['shift_p50']:g}   target <= {r['window']} (processes x batch): "
          f"{verdict('order')}")
    print(f"follow-up work      {r['probes']} staff follow-ups (보완 요청 notices) on the oldest cases, made while "
          f"{r['probe_backlog_p50']:g} (median; up to {r['probe_backlog_max']}) requests still waited")
    print(f"                    commit → sent p50 {r['probe_p50_s']:.1f} s, max {r['probe_max_s']:.1f} s; "
          f"{r['probes_sent_before_drained']} of {r['probes']} sent before the backlog drained   target all within "
          f"{TARGET_FOLLOW_UP_S:.0f} s: {verdict('no_starvation')}")
    print(f"early 접수 확인      oldest {r['early_acks']}: created → sent p50 {r['early_ack_delivery_p50_s']:.1f} s, "
          f"max {r['early_ack_delivery_max_s']:.1f} s; {r['early_acks_sent_before_drained']} sent before the "
          "backlog drained")
    print(f"worker peak RSS     {r['worker_peak_rss_mb']:8.1f} MB (largest worker process)   target < "
          f"{TARGET_RSS_MB:.0f} MB: {verdict('worker_rss')}")
    print(f"nothing lost or doubled: {'yes' if r['checks']['intact'] else 'NO'} {r['checks']}")


if __name__ == "__main__":
    sys.exit(main())
