"""Web-form intake under load: POST /intake/web from concurrent clients, next to the floor of the same work bare.

    .venv/bin/python bench/webform_bench.py [--n 5000] [--clients 8] [--rate R] [--workers 1] [--concurrency 2]
                                            [--json] [--keep]

Pipeline: N realistic Korean web-form requests (varied rights, one in eight asking for two, names, phone numbers,
one in ten through a 법정대리인 or a 위임 agent, one in twenty with a 위임장 attached, each with its own
Idempotency-Key) are posted as JSON to `POST /intake/web` (`dsar.api.app` under uvicorn, a subprocess) by
`--clients` connections → stored in PostgreSQL (a database of its own, `dsar_webform_bench`, created and dropped
here) → processed in the API process (one case per right, its 접수 확인 rendered and queued) → delivered by the
Celery workers started here (the same command as bench/intake_bench.py, mail transport "file").

Measured: accepted requests/s (N over the time to post them all), and for each request the time from the moment
its client sent it to its acknowledgement notices being created (queued), p50/p99 and the share within 2 s;
also the server's own part (stored → created). Peak resident memory of the API process and of any worker process.

Floor, in the same run: the same JSON bodies parsed with the stdlib `json`, one INSERT each (autocommit) into
PostgreSQL and one LPUSH each onto a Redis list, by as many processes as there are clients. The ratio is the
pipeline's time per request over the floor's.

Before it reports, the bench checks that nothing was lost or doubled: every post answered 201, N messages
stored once, one case per right asked for and the cases each answer named, one acknowledgement per case,
created, sent and written to the outbox once.
Targets: 500 requests/s accepted, every acknowledgement within 2 s, API process < 150 MB, worker < 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import intake_bench  # noqa: E402  (bench/ is not a package)
from http_load import post_many  # noqa: E402
from intake_bench import RssSampler, bench_run, prepare_schema, start_api, start_workers, timed_floor  # noqa: E402

REDIS_URL = os.environ.get("DSAR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
DB_NAME = "dsar_webform_bench"
TARGET_RATE, TARGET_ACK_S, TARGET_API_MB, TARGET_WORKER_MB = 500.0, 2.0, 150.0, 200.0
FormRequest = tuple[dict[str, object], str]  # the JSON body and its Idempotency-Key

RIGHTS = [["열람"], ["삭제"], ["정정"], ["열람"], ["처리정지"], ["동의철회"], ["access"], ["열람", "삭제"]]
DETAILS = {
    "열람": "2023년에 가입한 계정으로 귀사가 보유한 제 개인정보 항목과 이용 목적, 제3자 제공 내역을 보고 싶습니다.",
    "삭제": "서비스를 더 이상 이용하지 않습니다. 회원 정보와 상담 기록을 포함한 제 개인정보를 모두 삭제해 주세요.",
    "정정": "회원 정보의 휴대전화 번호와 주소가 예전 것으로 되어 있습니다. 현재 정보로 정정해 주시기 바랍니다.",
    "처리정지": "마케팅 목적의 개인정보 처리를 정지해 주세요. 광고 문자와 이메일을 받고 싶지 않습니다.",
    "동의철회": "회원 가입 때 선택 항목으로 동의한 개인정보 수집·이용 동의를 철회하겠습니다.",
    "access": "개인정보 유출 사고 공지를 보았습니다. 제 어떤 정보가 유출되었는지 열람을 요청합니다.",
}
SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍"
GIVEN = ["민지", "서준", "지우", "하은", "도윤", "서연", "예준", "지민", "하준", "수아", "시우", "지아", "은우", "유나"]


def build_requests(n: int, run: str) -> list[FormRequest]:
    """N distinct requests as the form's JSON, each with the Idempotency-Key a form page would send."""
    out = []
    mandate = base64.b64encode(b"%PDF-1.4 " + os.urandom(4096)).decode()
    for i in range(n):
        rights = RIGHTS[i % len(RIGHTS)]
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
        body: dict[str, object] = {
            "org": "rsupport", "name": name, "email": f"user{i:06d}.{run}@example.com",
            "phone": f"010-{1000 + i % 9000:04d}-{(i * 7919) % 10000:04d}", "right": rights,
            "details": " ".join(DETAILS[r] for r in rights),
        }
        if i % 10 == 3:
            body["agent"] = {"kind": "법정대리인", "name": "김보호", "relation": "부모"}
        elif i % 10 == 7:
            body["agent"] = {"kind": "위임", "name": "이대리", "relation": "배우자"}
        if i % 20 == 7:
            body["attachment"] = {"filename": "위임장.pdf", "content_type": "application/pdf", "content": mandate}
        out.append((body, f"bench-{run}-{i}"))
    return out


def cases_asked(body: dict[str, object]) -> int:
    """Cases a request should open: one per distinct right (English keys are the same rights)."""
    from dsar.intake.webform import parse_rights

    return len(parse_rights(body["right"]))


# -- the pipeline ---------------------------------------------------------------------------------------------


@dataclass
class Posted:
    sent_at: float  # wall clock (epoch seconds) when the client sent it
    answered_s: float  # seconds until the answer arrived
    status: int
    answer: dict[str, object] = field(default_factory=dict)


async def post_all(requests: list[FormRequest], port: int, clients: int,
                   rate: float = 0.0) -> tuple[float, list[Posted], int]:
    """Post every request with `clients` connections (with `rate`, request i leaves at i/rate seconds); a post
    that fails in transit is sent again with the same Idempotency-Key (kept once). Returns seconds, one `Posted`
    per request (in order) and the resends."""
    posted: list[Posted | None] = [None] * len(requests)
    items = [(json.dumps(body, ensure_ascii=False).encode(), {"Content-Type": "application/json",
                                                             "Idempotency-Key": key}) for body, key in requests]

    def answered(i: int, status: int, answer: bytes, sent_at: float, seconds: float) -> None:
        posted[i] = Posted(sent_at, seconds, status, json.loads(answer) if answer.startswith(b"{") else {})

    seconds, _failures, resends = await post_many(port, "/intake/web", items, clients, rate=rate, on_answer=answered)
    return seconds, [p for p in posted if p is not None], resends


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(len(values) * q))] if values else 0.0


def pipeline_figures(posted: list[Posted]) -> dict[str, object]:
    """Latencies per request (sent → its last acknowledgement created) and the counts the checks compare."""
    from sqlalchemy import text

    from dsar.db import get_engine

    with get_engine().connect() as conn:
        acks = conn.execute(text(
            "SELECT m.id, m.received_at, max(n.created_at) FROM notice n JOIN request r ON n.request_id = r.id "
            "JOIN inboundmessage m ON r.inbound_id = m.id WHERE n.kind = 'acknowledgement' GROUP BY m.id")).all()
        numbers = conn.execute(text("SELECT inbound_id, number FROM request ORDER BY id")).all()
        checks = conn.execute(text(
            "SELECT (SELECT count(*) FROM inboundmessage WHERE source = 'web'), "
            "(SELECT count(DISTINCT message_id) FROM inboundmessage), "
            "(SELECT count(*) FROM inboundmessage WHERE status = 'processed'), (SELECT count(*) FROM request), "
            "(SELECT count(*) FROM notice WHERE kind = 'acknowledgement'), "
            "(SELECT count(DISTINCT request_id) FROM notice WHERE kind = 'acknowledgement'), "
            "(SELECT count(*) FROM notice WHERE kind = 'acknowledgement' AND status = 'sent')")).one()
    by_inbound = {p.answer.get("inbound_id"): p for p in posted}
    created = {inbound_id: last.timestamp() for inbound_id, _received, last in acks}
    total = sorted(created[i] - p.sent_at for i, p in by_inbound.items() if i in created)
    server = sorted((last - received).total_seconds() for _i, received, last in acks)
    named: dict[int, list[str]] = {}
    for inbound_id, number in numbers:
        named.setdefault(inbound_id, []).append(number)
    mismatched = sum(1 for i, p in by_inbound.items() if named.get(i, []) != p.answer.get("cases"))
    return {
        "stored": checks[0], "distinct_message_ids": checks[1], "processed": checks[2], "cases": checks[3],
        "acks": checks[4], "cases_with_ack": checks[5], "acks_sent": checks[6],
        "answers_not_matching_cases": mismatched, "requests_with_ack": len(total),
        "p50_ms": 1000 * statistics.median(total) if total else 0.0, "p99_ms": 1000 * _quantile(total, 0.99),
        "max_ms": 1000 * total[-1] if total else 0.0,
        "within_target": sum(1 for t in total if t <= TARGET_ACK_S) / len(posted) if posted else 0.0,
        "server_p50_ms": 1000 * statistics.median(server) if server else 0.0,
        "server_p99_ms": 1000 * _quantile(server, 0.99),
    }


# -- the floor ------------------------------------------------------------------------------------------------


def _floor_part(args: tuple[list[bytes], str, str]) -> int:
    import psycopg
    import redis

    bodies, pg_url, redis_url = args
    client = redis.Redis.from_url(redis_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for raw in bodies:
            data = json.loads(raw)
            row = conn.execute("INSERT INTO bench_floor (name, email, rights, details, body) VALUES "
                               "(%s, %s, %s, %s, %s) RETURNING id",
                               (data["name"], data["email"], json.dumps(data["right"]), data["details"], raw))
            client.lpush("bench:floor", row.fetchone()[0])
    client.close()
    return len(bodies)


def run_floor(bodies: list[bytes], pg_url: str, procs: int) -> float:
    """Requests per second of the bare work, `procs` processes at once (after a warm-up)."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, name text, email text, rights text, "
                     "details text, body bytea NOT NULL)")
    return timed_floor(_floor_part, bodies, pg_url, REDIS_URL, procs)


# -- main -----------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=5_000, help="requests (default 5,000)")
    ap.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients (default 8)")
    ap.add_argument("--api-workers", type=int, default=1, help="API (uvicorn) processes (default 1)")
    ap.add_argument("--workers", type=int, default=1, help="Celery worker processes (each -c CONCURRENCY)")
    ap.add_argument("--concurrency", type=int, default=2, help="pool processes per worker (default 2)")
    ap.add_argument("--rate", type=float, default=0.0,
                    help="post at this many requests/s (0: as fast as the API answers); below what the workers "
                    "keep up with, the acknowledgement time is the pipeline's own, above it the backlog's")
    ap.add_argument("--timeout", type=float, default=600, help="seconds to wait for every acknowledgement sent")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the bench database and the temporary folder")
    args = ap.parse_args()

    load_before = os.getloadavg()[0]
    with bench_run(DB_NAME, REDIS_URL, "dsar-webform-bench-", keep=args.keep) as run:
        prepare_schema()
        requests = build_requests(args.n, run=str(int(time.time())))
        expected_cases = sum(cases_asked(body) for body, _ in requests)
        floor_rate = run_floor([json.dumps(body).encode() for body, _ in requests], run.pg_url, procs=args.clients)
        run.redis.flushdb()

        workers = start_workers(args.workers, args.concurrency, run.env, run.work)
        run.procs += workers
        port = intake_bench._free_port()
        api = start_api(port, args.api_workers, run.env, run.work)
        run.procs.append(api)
        worker_rss, api_rss = RssSampler([w.pid for w in workers]), RssSampler([api.pid])
        worker_rss.start()
        api_rss.start()
        post_seconds, posted, resends = asyncio.run(post_all(requests, port, args.clients, args.rate))
        sent = intake_bench.wait_for(
            "SELECT count(*) FROM notice WHERE kind = 'acknowledgement' AND status = 'sent'", expected_cases,
            args.timeout)
        for sampler in (worker_rss, api_rss):
            sampler.done.set()
            sampler.join()
        load_after = os.getloadavg()[0]
        figures = pipeline_figures(posted)
        delivered_files = len(list((run.work / "var" / "outbox").glob("*.eml")))

    rate = args.n / post_seconds
    ratio = floor_rate / rate if rate else float("inf")
    failures = sum(1 for p in posted if p.status != 201)
    intact = (failures == 0 and len(posted) == args.n
              and figures["stored"] == figures["distinct_message_ids"] == figures["processed"] == args.n
              and figures["cases"] == figures["acks"] == figures["cases_with_ack"] == expected_cases
              and sent == delivered_files == expected_cases
              and figures["answers_not_matching_cases"] == 0 and figures["requests_with_ack"] == args.n)
    api_mb, worker_mb = api_rss.peak_kb / 1024, worker_rss.peak_kb / 1024
    answered = sorted(p.answered_s for p in posted)
    result = {
        "n": args.n, "clients": args.clients, "rate": args.rate, "cpus": os.cpu_count(), "load_before": load_before,
        "load_after": load_after, "workers": args.workers, "concurrency": args.concurrency,
        "accepted_rate": rate, "post_seconds": post_seconds,
        "answer_p50_ms": 1000 * statistics.median(answered), "answer_p99_ms": 1000 * _quantile(answered, 0.99),
        **{k: figures[k] for k in ("p50_ms", "p99_ms", "max_ms", "within_target", "server_p50_ms",
                                   "server_p99_ms")},
        "api_peak_rss_mb": api_mb, "worker_peak_rss_mb": worker_mb, "floor_rate": floor_rate, "floor_ratio": ratio,
        "checks": {**{k: figures[k] for k in ("stored", "distinct_message_ids", "processed", "cases", "acks",
                                               "cases_with_ack", "acks_sent", "answers_not_matching_cases",
                                               "requests_with_ack")},
                   "expected_cases": expected_cases, "delivered_files": delivered_files,
                   "http_failures": failures, "http_resends": resends, "intact": intact},
        "targets_met": {"accepted_rate": rate >= TARGET_RATE, "ack_within_2s": figures["within_target"] == 1.0,
                        "api_rss": api_mb < TARGET_API_MB, "worker_rss": worker_mb < TARGET_WORKER_MB},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(result, args)
    return 0 if intact else 1


def report(result: dict[str, object], args: argparse.Namespace) -> None:
    met = result["targets_met"]

    def verdict(key: str) -> str:
        return "met" if met[key] else "NOT MET"  # type: ignore[index]

    pace = f"paced at {args.rate:g}/s" if args.rate else "as fast as answered"
    print(f"requests            {args.n:,} web-form posts ({args.clients} HTTP clients, {args.api_workers} API "
          f"process(es), {args.workers} worker x -c {args.concurrency}, {pace})")
    print(f"machine             {result['cpus']} CPUs, load average {result['load_before']:.1f} before, "
          f"{result['load_after']:.1f} after (other processes share the CPUs)")
    print(f"accepted            {result['accepted_rate']:8.1f} requests/s (201 with the case numbers; "
          f"{result['post_seconds']:.1f} s)   target {TARGET_RATE:.0f}/s: {verdict('accepted_rate')}")
    print(f"answer time         p50 {result['answer_p50_ms']:.0f} ms   p99 {result['answer_p99_ms']:.0f} ms")
    print(f"acknowledged        p50 {result['p50_ms']:.0f} ms   p99 {result['p99_ms']:.0f} ms   max "
          f"{result['max_ms']:.0f} ms (sent → 접수 확인 created); {100 * result['within_target']:.1f}% within "
          f"{TARGET_ACK_S:.0f} s   target all: {verdict('ack_within_2s')}")
    print(f"  server's part     p50 {result['server_p50_ms']:.0f} ms   p99 {result['server_p99_ms']:.0f} ms "
          "(stored → 접수 확인 created)")
    print(f"API peak RSS        {result['api_peak_rss_mb']:8.1f} MB (largest API process)   "
          f"target < {TARGET_API_MB:.0f} MB: {verdict('api_rss')}")
    print(f"worker peak RSS     {result['worker_peak_rss_mb']:8.1f} MB (largest worker process)   target < "
          f"{TARGET_WORKER_MB:.0f} MB: {verdict('worker_rss')}")
    print(f"floor               {result['floor_rate']:8.1f} requests/s (json.loads + 1 INSERT + 1 LPUSH, "
          f"{args.clients} processes)")
    print(f"ratio               {result['floor_ratio']:8.2f}x the floor's time per request")
    checks = result["checks"]
    print(f"nothing lost or doubled: {'yes' if checks['intact'] else 'NO'} {checks}")  # type: ignore[index]


if __name__ == "__main__":
    sys.exit(main())
