"""End-to-end intake throughput through the real pipeline, next to the floor of the same work done bare.

    .venv/bin/python bench/intake_bench.py [--n 10000] [--workers 1] [--concurrency 2] [--api-workers 1]
                                           [--clients 32] [--json] [--keep]

Pipeline: N request e-mails are posted to the webhook (`dsar.api.app` under uvicorn, a subprocess) → stored in
PostgreSQL (a database of its own, `dsar_bench`, created and dropped by the bench) → queued on Redis (DB 14) →
processed by Celery workers started here (`-c 2` each, queues intake and notices) → routed, one case opened and
its 접수 확인 notice created and delivered (mail transport "file" into a temporary folder, so no SMTP server is
the bottleneck). Measured: the posting rate, the end-to-end throughput (first message stored → last
acknowledgement created), the latency of each message (stored → acknowledgement created; p50/p99), and the
largest resident memory of any worker process.

Floor, in the same run: the same messages parsed with the stdlib e-mail parser (headers and body), inserted as
one row each (autocommit) into PostgreSQL and pushed once each onto a Redis list, by as many processes as the
pipeline has worker processes. The ratio is the pipeline's time per message over the floor's.

Before it reports, the bench checks that nothing was lost or doubled: N messages stored, N cases, N
acknowledgements created and N delivered, one case per message.
Targets: 500 messages/s end to end, within 4x the floor, every worker process under 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("DSAR_BENCH_PG_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DSAR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
DB_NAME = "dsar_bench"
TOKEN = "bench-webhook-token"
TARGET_RATE, TARGET_RATIO, TARGET_RSS_MB = 500.0, 4.0, 200.0

# One right per message, in words the classifier reads unambiguously (the bench counts one case per message).
REQUESTS = [
    ("열람", "개인정보 열람 요청", "귀사가 보유한 제 개인정보를 열람하고 싶습니다. 처리 목적도 알려 주세요."),
    ("정정", "개인정보 정정 요청", "회원 정보에 등록된 제 전화번호가 잘못되어 있습니다. 정정해 주시기 바랍니다."),
    ("삭제", "개인정보 삭제 요청", "더 이상 서비스를 쓰지 않으니 제 개인정보를 삭제해 주세요."),
    ("처리정지", "개인정보 처리정지 요구", "제 개인정보의 처리를 정지해 주시기 바랍니다."),
    ("열람", "Subject access request", "I would like to access my personal data held by your company."),
]
NAMES = ["김민지", "이서준", "박지우", "최하은", "정도윤", "강서연", "조예준", "윤지민"]


def build_messages(n: int, to: str, run: str) -> list[bytes]:
    """N distinct requests: plain text, one in ten with an HTML alternative, one in twenty with an attachment."""
    out = []
    now = format_datetime(datetime.now(UTC))
    for i in range(n):
        _right, subject, text = REQUESTS[i % len(REQUESTS)]
        msg = EmailMessage()
        msg["From"] = f"{NAMES[i % len(NAMES)]} <requester{i:06d}@example.com>"
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = now
        msg["Message-ID"] = f"<bench-{run}-{i}@example.com>"
        msg.set_content(f"안녕하세요.\n{text}\n\n{NAMES[i % len(NAMES)]} 드림\n", charset="utf-8")
        if i % 10 == 0:
            msg.add_alternative(f"<p>안녕하세요.</p><p>{text}</p>", subtype="html", charset="utf-8")
        if i % 20 == 0:
            msg.add_attachment(b"%PDF-1.4 " + os.urandom(2048), maintype="application", subtype="pdf",
                               filename="신분증.pdf")
        out.append(msg.as_bytes(policy=policy.SMTP))
    return out


# -- set-up ---------------------------------------------------------------------------------------------------


def create_database(name: str) -> str:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Run:
    """One bench run's own world: a PostgreSQL database, a temporary folder, the environment every process it
    starts gets, a flushed Redis DB, and those processes (stopped at the end)."""

    work: Path
    pg_url: str
    env: dict[str, str]
    redis: Any
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)


@contextmanager
def bench_run(db_name: str, redis_url: str, prefix: str, *, keep: bool) -> Iterator[Run]:
    """Set a run up, and on the way out stop its processes, flush Redis and drop the database and the folder
    (kept with `keep`, or when the run failed, for a look at the logs)."""
    import redis

    from dsar.db import dispose_engines

    work = Path(tempfile.mkdtemp(prefix=prefix))
    pg_url = create_database(db_name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSAR_")}
    env.update({"DSAR_DATABASE_URL": pg_url, "DSAR_BROKER_URL": redis_url, "DSAR_CELERY_EAGER": "0",
                "DSAR_MAIL_TRANSPORT": "file", "DSAR_DATA_DIR": str(work / "var"), "DSAR_WEBHOOK_TOKEN": TOKEN,
                "DSAR_ENV": "development", "PYTHONWARNINGS": "ignore"})
    os.environ.update(env)
    run = Run(work, pg_url, env, redis.Redis.from_url(redis_url))
    run.redis.flushdb()
    finished = False
    try:
        yield run
        finished = True
    finally:
        stop(run.procs)
        run.redis.flushdb()
        run.redis.close()
        dispose_engines()
        if keep or not finished:
            print(f"kept: database {db_name}, logs and outbox in {work}", file=sys.stderr)
        else:
            drop_database(db_name)
            shutil.rmtree(work, ignore_errors=True)


def prepare_schema() -> str:
    """Migrate the bench database and register one organisation; returns its intake address."""
    from dsar.db import session_scope, upgrade
    from dsar.workflow.definitions import load_bases, load_organisation
    from dsar.workflow.registry import register

    upgrade()
    resolved = load_organisation(ROOT / "workflows" / "rsupport.yaml", load_bases())
    with session_scope() as session:
        register(session, resolved)
    return str(resolved["routing"]["addresses"][0])


# -- processes ------------------------------------------------------------------------------------------------


def start_workers(count: int, concurrency: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for w in range(count):
        log = (logs / f"worker{w}.log").open("wb")
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", "intake,notices", "-c", str(concurrency),
             "-n", f"bench{w}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        ))
    deadline = time.monotonic() + 60
    for w, proc in enumerate(procs):
        while b"ready" not in (logs / f"worker{w}.log").read_bytes():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((logs / f"worker{w}.log").read_text())
            time.sleep(0.1)
    return procs


def start_api(port: int, workers: int, env: dict[str, str], logs: Path) -> subprocess.Popen[bytes]:
    import httpx

    log = (logs / "api.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "dsar.api.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
         "--timeout-keep-alive", "60", "--backlog", "1024"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((logs / "api.log").read_text())
        time.sleep(0.2)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


class RssSampler(threading.Thread):
    """The largest resident set of any worker process (parents and pool children), sampled every 0.5 s."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak_kb, self.done = pids, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            for pid in self.pids:
                for p in [pid, *_children(pid)]:
                    self.peak_kb = max(self.peak_kb, _rss_kb(p))


# -- the pipeline ---------------------------------------------------------------------------------------------


async def post_all(messages: list[bytes], port: int, clients: int, rate: float = 0.0) -> tuple[float, list[int], int]:
    """Post every message to the webhook with `clients` connections, as a mail service does (`http_load`): a post
    that fails in transit is sent again (the Message-ID makes that safe). With `rate`, message i leaves at i/rate
    seconds (an open-loop arrival rate); without, as fast as the webhook answers. Returns seconds, non-2xx
    answers, resends."""
    from http_load import post_many

    headers = {"X-DSAR-Token": TOKEN, "Content-Type": "message/rfc822"}
    return await post_many(port, "/intake/email", [(raw, headers) for raw in messages], clients, rate=rate)


def wait_for(sql: str, expected: int, timeout: float) -> int:
    from sqlalchemy import text

    from dsar.db import get_engine

    deadline = time.monotonic() + timeout
    while True:
        with get_engine().connect() as conn:
            count = int(conn.execute(text(sql)).scalar_one())
        if count >= expected or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def pipeline_figures(n: int) -> dict[str, float | int]:
    from sqlalchemy import text

    from dsar.db import get_engine

    with get_engine().connect() as conn:
        rows = conn.execute(text(
            "SELECT extract(epoch FROM n.created_at - m.received_at) FROM notice n "
            "JOIN request r ON n.request_id = r.id JOIN inboundmessage m ON r.inbound_id = m.id "
            "WHERE n.kind = 'acknowledgement'")).scalars().all()
        first, last_ack, last_sent = conn.execute(text(
            "SELECT (SELECT min(received_at) FROM inboundmessage), "
            "(SELECT max(created_at) FROM notice WHERE kind = 'acknowledgement'), "
            "(SELECT max(sent_at) FROM notice WHERE kind = 'acknowledgement')")).one()
        checks = conn.execute(text(
            "SELECT (SELECT count(*) FROM inboundmessage), (SELECT count(DISTINCT message_id) FROM inboundmessage), "
            "(SELECT count(*) FROM inboundmessage WHERE status = 'processed'), (SELECT count(*) FROM request), "
            "(SELECT count(*) FROM (SELECT inbound_id FROM request GROUP BY inbound_id HAVING count(*) > 1) d), "
            "(SELECT count(*) FROM notice WHERE kind = 'acknowledgement'), "
            "(SELECT count(*) FROM notice WHERE kind = 'acknowledgement' AND status = 'sent')")).one()
    latencies = sorted(float(x) for x in rows)
    span = (last_ack - first).total_seconds()
    return {
        "stored": checks[0], "distinct_message_ids": checks[1], "processed": checks[2], "cases": checks[3],
        "messages_with_two_cases": checks[4], "acks": checks[5], "acks_sent": checks[6],
        "throughput": n / span if span > 0 else 0.0, "span_s": span,
        "delivered_span_s": (last_sent - first).total_seconds() if last_sent else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0,
    }


# -- the floor ------------------------------------------------------------------------------------------------


def _floor_part(args: tuple[list[bytes], str, str]) -> int:
    import psycopg
    import redis

    messages, pg_url, redis_url = args
    parser = BytesParser(policy=policy.default)
    client = redis.Redis.from_url(redis_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for raw in messages:
            msg = parser.parsebytes(raw)
            body = msg.get_body(preferencelist=("plain", "html"))
            text = body.get_content() if body is not None else ""
            conn.execute("INSERT INTO bench_floor (message_id, sender, subject, body, raw) VALUES (%s, %s, %s, %s, %s)",
                         (str(msg["Message-ID"]), str(msg["From"]), str(msg["Subject"]), text, raw))
            client.lpush("bench:floor", str(msg["Message-ID"]))
    client.close()
    return len(messages)


def run_floor(messages: list[bytes], pg_url: str, procs: int) -> float:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, message_id text UNIQUE, sender text, "
                     "subject text, body text, raw bytea NOT NULL)")
    return timed_floor(_floor_part, messages, pg_url, REDIS_URL, procs)


def timed_floor(part: Callable[[tuple[list[bytes], str, str]], int], items: list[bytes], pg_url: str,
                redis_url: str, procs: int) -> float:
    """Items per second of a floor's work (`part` over a share of the items, writing `bench_floor`), `procs`
    processes at once, after a warm-up (imports, connections) whose rows are thrown away."""
    import psycopg

    parts = [(items[i::procs], pg_url, redis_url) for i in range(procs)]
    with multiprocessing.get_context("spawn").Pool(procs) as pool:
        pool.map(part, [(share[:20], u, r) for share, u, r in parts])
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("TRUNCATE bench_floor")
        start = time.perf_counter()
        done = sum(pool.map(part, parts))
        elapsed = time.perf_counter() - start
    assert done == len(items)
    return len(items) / elapsed


# -- main -----------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="messages (default 10,000)")
    ap.add_argument("--workers", type=int, default=1, help="Celery worker processes to start (each -c CONCURRENCY)")
    ap.add_argument("--concurrency", type=int, default=2, help="pool processes per worker (default 2)")
    ap.add_argument("--api-workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--clients", type=int, default=32, help="concurrent HTTP connections posting")
    ap.add_argument("--rate", type=float, default=0.0,
                    help="post at this many messages/s (0: as fast as the webhook takes them); below the pipeline's "
                    "throughput the latency is the pipeline's own, above it the queueing delay of the backlog")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the pipeline to finish")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the bench database and the temporary folder")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    with bench_run(DB_NAME, REDIS_URL, "dsar-intake-bench-", keep=args.keep) as run:
        address = prepare_schema()
        messages = build_messages(args.n, address, run=str(int(time.time())))
        floor_rate = run_floor(messages, run.pg_url, procs=args.workers * args.concurrency)
        run.redis.flushdb()

        workers = start_workers(args.workers, args.concurrency, run.env, run.work)
        run.procs += workers
        port = _free_port()
        run.procs.append(start_api(port, args.api_workers, run.env, run.work))
        sampler = RssSampler([w.pid for w in workers])
        sampler.start()
        post_seconds, failures, resends = asyncio.run(post_all(messages, port, args.clients, args.rate))
        acks = wait_for("SELECT count(*) FROM notice WHERE kind = 'acknowledgement'", args.n, args.timeout)
        sent = wait_for("SELECT count(*) FROM notice WHERE kind = 'acknowledgement' AND status = 'sent'",
                        args.n, max(60.0, args.timeout / 4))
        sampler.done.set()
        sampler.join()
        load_after = os.getloadavg()[0]
        figures = pipeline_figures(args.n)
        delivered_files = len(list((run.work / "var" / "outbox").glob("*.eml")))

    rate = float(figures["throughput"])
    ratio = floor_rate / rate if rate else float("inf")
    rss_mb = sampler.peak_kb / 1024
    intact = (not failures and figures["stored"] == figures["distinct_message_ids"] == figures["processed"] == args.n
              and figures["cases"] == acks == sent == delivered_files == args.n
              and figures["messages_with_two_cases"] == 0)
    result = {
        "n": args.n, "cpus": os.cpu_count(), "load_before": load_before, "load_after": load_after,
        "workers": args.workers, "rate": args.rate, "concurrency": args.concurrency, "api_workers": args.api_workers,
        "post_rate": args.n / post_seconds, "throughput": rate, "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"], "end_to_end_s": figures["span_s"], "delivered_s": figures["delivered_span_s"],
        "worker_peak_rss_mb": rss_mb, "floor_rate": floor_rate, "floor_ratio": ratio,
        "checks": {**{k: figures[k] for k in ("stored", "distinct_message_ids", "processed", "cases",
                                               "messages_with_two_cases", "acks", "acks_sent")},
                   "delivered_files": delivered_files, "http_failures": len(failures), "http_resends": resends,
                   "intact": intact},
        "targets_met": {"throughput": rate >= TARGET_RATE, "floor_ratio": ratio <= TARGET_RATIO,
                        "worker_rss": rss_mb < TARGET_RSS_MB},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        met = result["targets_met"]
        pace = f"paced at {args.rate:g}/s" if args.rate else "as fast as taken"
        print(f"messages            {args.n:,} ({args.workers} worker x -c {args.concurrency}, "
              f"{args.api_workers} API process, {args.clients} HTTP clients, {pace})")
        print(f"machine             {os.cpu_count()} CPUs, load average {load_before:.1f} before, "
              f"{load_after:.1f} after (other processes share the CPUs)")
        print(f"webhook intake      {result['post_rate']:8.1f} msg/s (posted and stored)")
        print(f"end to end          {rate:8.1f} msg/s (stored → 접수 확인 created; {figures['span_s']:.1f} s)"
              f"   target {TARGET_RATE:.0f}/s: {'met' if met['throughput'] else 'NOT MET'}")
        print(f"latency             p50 {figures['p50_ms']:.0f} ms   p99 {figures['p99_ms']:.0f} ms "
              "(stored → 접수 확인 created)")
        print(f"all delivered after {figures['delivered_span_s']:.1f} s")
        print(f"worker peak RSS     {rss_mb:8.1f} MB (largest worker process)"
              f"   target < {TARGET_RSS_MB:.0f} MB: {'met' if met['worker_rss'] else 'NOT MET'}")
        print(f"floor               {floor_rate:8.1f} msg/s (stdlib parse + 1 INSERT + 1 LPUSH, "
              f"{args.workers * args.concurrency} processes)")
        print(f"ratio               {ratio:8.2f}x the floor's time per message"
              f"   target <= {TARGET_RATIO:.0f}x: {'met' if met['floor_ratio'] else 'NOT MET'}")
        print(f"nothing lost or doubled: {'yes' if intact else 'NO'} {result['checks']}")
    return 0 if intact else 1


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
