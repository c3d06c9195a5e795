"""How fast the staff console's queue page and the case-list API answer with 100,000 cases in PostgreSQL, next to
the bare SQL of the same page.

    .venv/bin/python bench/console_bench.py [--url postgresql://postgres:postgres@127.0.0.1:5432/dsar_bench_console]
                                            [--cases 100000] [--requests 200] [--keep]

It (re)creates its own database, migrates it, imports the sample policy (samples/policies/rsupport...) and a
second organisation, makes an officer account with an API token, and bulk-loads the cases with COPY (90% in the
first organisation; a third open, due dates spread two months either side of today; the rest closed). Then it
starts `uvicorn dsar.api.app:create_app` in its own process and times, over one keep-alive connection, `--requests`
calls of each of:

- API:   GET /api/cases?closed=false&...   (bearer token; a page of 50, the total, assignee names, stage labels)
- page:  GET /queue?...                    (session cookie; the same plus the counts per stage, rendered HTML)

rotating over four variants (first page, a later page, one right, overdue only). The baseline is the bare SQL
those requests run for their data (page + total, and for the queue the counts per stage), timed with psycopg
on its own connection over the same variants. Reported: p50 and p99 in ms, and the ratio to the baseline.
Target: p99 < 100 ms for both.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgresql://postgres:postgres@127.0.0.1:5432/dsar_bench_console"
P99_TARGET_MS = 100.0
PASSWORD = "bench password, long enough"
COLUMNS = ("id", "number", "org_id", "workflow_version_id", "right", "rights", "stage", "closed", "not_a_request",
           "channel", "received_at", "due_date", "due_basis", "pauses", "extensions", "requester_name",
           "requester_email", "subject", "details", "classification", "assignee_id", "row_version", "created_at",
           "updated_at")
OPEN_STAGES = ("received", "verifying", "reviewing", "awaiting_requester", "notifying", "postponed")
RIGHTS = ("열람", "정정", "삭제", "처리정지", "동의철회")


def recreate(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def set_up(out_dir: Path) -> dict[str, object]:
    """Organisations, an officer with a token; returns ids the load and the requests need."""
    from sqlmodel import select

    from dsar.auth import accounts
    from dsar.db import session_scope, upgrade
    from dsar.models import ContactPerson
    from dsar.workflow.definitions import load_bases, load_organisation
    from dsar.workflow.importer import import_policy
    from dsar.workflow.registry import register

    upgrade()
    with session_scope() as s:
        imported = import_policy(s, ROOT / "samples" / "policies" / "rsupport_privacy_policy.txt", out_dir)
        org, version = imported.registered.org, imported.registered.version
    path = ROOT / "tests" / "data" / "workflows" / "testorg.yaml"
    with session_scope() as s:
        other = register(s, load_organisation(path, load_bases()))
    with session_scope() as s:
        contacts = [c.id for c in s.exec(select(ContactPerson).where(ContactPerson.org_id == org.id))]
        officer = accounts.create_user(s, email="officer@bench.example", name="벤치책임자", role="책임자",
                                       password=PASSWORD, org_slug=org.slug, actor="bench")
        _, token = accounts.create_token(s, name="bench", actor="bench", user=officer)
    return {"org": org.id, "slug": org.slug, "version": version.id, "other": other.org.id,
            "other_version": other.version.id, "contacts": contacts, "token": token}


def load(url: str, ids: dict[str, object], n: int, today: date) -> None:
    rng = random.Random(20261125)
    basis = json.dumps({"days": 10, "statutory": True, "label": "법정 처리기간", "counting": "civil",
                        "basis": ["접수일은 기간에 산입하지 않음 (민법 제157조)", "법정 처리기간 10일",
                                  "기한: 말일 24:00까지 (민법 제159조)"], "legal_basis": "개인정보 보호법 제35조"},
                       ensure_ascii=False)
    from dsar.crypto import keyring  # personal data columns hold ciphertext (dsar/crypto.py)

    seal = keyring().encrypt_text
    details = seal("제 개인정보 처리 내역을 열람하고 싶습니다. 가입 이후 수집된 항목과 제3자 제공 내역을 알려 "
                   "주십시오. " * 3)
    subjects = {right: seal(f"{right} 요청") for right in RIGHTS}
    buf = io.StringIO()
    for i in range(1, n + 1):
        first = i % 10 != 0
        org, version = (ids["org"], ids["version"]) if first else (ids["other"], ids["other_version"])
        closed = rng.random() < 0.66
        due = today + timedelta(days=rng.randint(-60, 60))
        received = datetime.combine(due - timedelta(days=14), datetime.min.time(), UTC) + timedelta(hours=1)
        right = rng.choice(RIGHTS)
        assignee = rng.choice(ids["contacts"]) if first else None  # type: ignore[arg-type]
        row = (i, f"DSAR-2026-{i:06d}", org, version, right, json.dumps([right], ensure_ascii=False),
               "closed" if closed else rng.choice(OPEN_STAGES), closed, False, "email", received.isoformat(),
               due.isoformat(), basis, "[]", "[]", seal(f"요청인{i}"), seal(f"person{i}@example.com"),
               subjects[right], details,
               json.dumps({"evidence": {right: [right]}, "language": "ko"}, ensure_ascii=False),
               assignee if assignee is not None else "\\N", 1, received.isoformat(), received.isoformat())
        buf.write("\t".join(str(v) if not isinstance(v, bool) else ("t" if v else "f") for v in row) + "\n")
    buf.seek(0)
    columns = ", ".join(f'"{c}"' for c in COLUMNS)  # "right" is an SQL keyword
    with psycopg.connect(url) as conn:
        with conn.cursor() as cur, cur.copy(f"COPY request ({columns}) FROM STDIN") as copy:
            while chunk := buf.read(1 << 20):
                copy.write(chunk)
        conn.execute("SELECT setval(pg_get_serial_sequence('request', 'id'), %s)", (n,))
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE request")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p99 * 1000


def timed(call: Callable[[int], object], count: int) -> list[float]:
    for i in range(5):  # warm-up: connections, caches, templates
        call(i)
    out = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - start)
    return out


VARIANTS = (  # (query string, SQL filter, offset): what each rotation asks for
    ("", "", 0),
    ("&page=7", "", 300),
    ("&right=삭제", " AND \"right\" = '삭제'", 0),
    ("&overdue=1", " AND due_date < %(today)s", 0),
)


def sql_baseline(url: str, org_id: int, today: date, with_counts: bool) -> Callable[[int], object]:
    conn = psycopg.connect(url, autocommit=True)

    def run(i: int) -> object:
        _, where, offset = VARIANTS[i % len(VARIANTS)]
        base = f"FROM request WHERE org_id = %(org)s AND closed = false{where}"
        params = {"org": org_id, "today": today, "offset": offset}
        rows = conn.execute(f"SELECT * {base} ORDER BY due_date ASC NULLS LAST, id LIMIT 50 OFFSET %(offset)s",
                            params).fetchall()
        total = conn.execute(f"SELECT count(*) {base}", params).fetchone()
        if with_counts:
            conn.execute(f"SELECT stage, count(*) {base} GROUP BY stage", params).fetchall()
        return rows, total

    return run


def api_call(client: httpx.Client, token: str) -> Callable[[int], object]:
    def run(i: int) -> object:
        query, _, offset = VARIANTS[i % len(VARIANTS)]
        query = query.replace("page=7", f"offset={offset}").replace("overdue=1", "overdue=true")
        response = client.get(f"/api/cases?closed=false{query}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text[:300]
        assert len(response.json()["items"]) == 50
        return response

    return run


def page_call(client: httpx.Client) -> Callable[[int], object]:
    def run(i: int) -> object:
        query, _, _ = VARIANTS[i % len(VARIANTS)]
        response = client.get(f"/queue?status=open{query}")
        assert response.status_code == 200 and response.text.count("<tr class=") == 50, response.text[:300]
        return response

    return run


def explain(url: str, org_id: int) -> str:
    with psycopg.connect(url) as conn:
        plan = conn.execute("EXPLAIN SELECT * FROM request WHERE org_id = %s AND closed = false "
                            "ORDER BY due_date ASC NULLS LAST, id LIMIT 50", (org_id,)).fetchall()
    used = re.findall(r"(ix_request_\w+)", " ".join(r[0] for r in plan))
    return ", ".join(dict.fromkeys(used)) or "no index (sequential scan)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("DSAR_BENCH_PG_URL", DEFAULT_URL))
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards")
    args = parser.parse_args()

    recreate(args.url)
    work = Path(tempfile.mkdtemp(prefix="dsar-console-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DSAR_")}
    env.update({"DSAR_DATABASE_URL": args.url, "DSAR_DATA_DIR": str(work / "var"), "DSAR_CELERY_EAGER": "1"})
    os.environ.update(env)
    today = datetime.now(UTC).date()
    t0 = time.perf_counter()
    ids = set_up(work / "workflows")
    load(args.url, ids, args.cases, today)
    print(f"loaded {args.cases:,} cases in {time.perf_counter() - t0:.1f} s; queue query uses: "
          f"{explain(args.url, ids['org'])}")  # type: ignore[arg-type]

    port = free_port()
    log = (work / "uvicorn.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "dsar.api.app:create_app", "--factory", "--host",
                               "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    ok = True
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=30) as client:
            login = client.get("/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
            signed = client.post("/login", data={"email": "officer@bench.example", "password": PASSWORD,
                                                 "next": "/queue", "csrf_token": csrf})
            assert signed.status_code == 303, signed.text[:300]
            rows = [
                ("API  GET /api/cases", timed(api_call(client, str(ids["token"])), args.requests),
                 timed(sql_baseline(args.url, ids["org"], today, False), args.requests)),  # type: ignore[arg-type]
                ("page GET /queue", timed(page_call(client), args.requests),
                 timed(sql_baseline(args.url, ids["org"], today, True), args.requests)),  # type: ignore[arg-type]
            ]
        print(f"{args.requests} requests each, one keep-alive connection, {args.cases:,} cases")
        print(f"{'':22}{'p50 ms':>9}{'p99 ms':>9}   {'SQL p50':>8}{'SQL p99':>9}   {'ratio p50':>9}{'p99':>7}"
              f"   target p99 < {P99_TARGET_MS:.0f} ms")
        for label, ours, floor in rows:
            p50, p99 = percentiles(ours)
            f50, f99 = percentiles(floor)
            met = p99 < P99_TARGET_MS
            ok &= met
            print(f"{label:22}{p50:9.1f}{p99:9.1f}   {f50:8.1f}{f99:9.1f}   {p50 / f50:8.1f}x{p99 / f99:6.1f}x"
                  f"   {'met' if met else 'NOT MET'}")
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        if not args.keep:
            from dsar.db import dispose_engines

            dispose_engines()
            drop(args.url)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
