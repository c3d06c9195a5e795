"""The running system the fault tests break: real Celery worker processes, an SMTP server that can go down and
come back, the webhook served by uvicorn, a stand-in for celery beat's recovery entries, and the counting of
what came out (cases in the database, mail received by the SMTP server)."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import httpx
from sqlmodel import col, select

from dsar.db import session_scope
from dsar.models import InboundMessage, Notice, Request
from tests.conftest import ROOT, free_port
from tests.faults.services import PrivatePostgres, PrivateRedis
from tests.intake_channels.helpers import TOKEN, message

ACK_ID = re.compile(r"<(DSAR-\d{4}-\d{6})\.acknowledgement\.\d+@")


def burst(name: str, count: int) -> dict[str, bytes]:
    """`count` request e-mails, each from its own requester (no duplicate linking), keyed by Message-ID."""
    mails = {}
    for i in range(count):
        mid = f"<{name}-{i}@example.com>"
        mails[mid] = message(message_id=mid, sender=f"요청자{i} <person{i}.{name}@example.com>",
                             body=f"제 개인정보를 열람하고 싶습니다. 회원번호 {i}번입니다.")
    return mails


class Smtp:
    """A real SMTP server (aiosmtpd) on a fixed loopback port that can be stopped and started again; it records
    the Message-ID and Subject of every message it accepted (a redelivery of the same message counts twice)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[str, str]] = []
        self._controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        received = self.received

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
                mail = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
                received.append((str(mail["Message-ID"]), str(mail["Subject"])))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class Workers:
    """Real `celery worker` processes (solo pool: one task at a time, SIGKILL takes the whole worker down)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.procs: dict[subprocess.Popen[bytes], Path] = {}
        self.started = 0

    def start(self, wait: bool = True) -> subprocess.Popen[bytes]:
        self.started += 1
        log_path = self.logs / f"worker{self.started}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", "intake,notices,reminders",
                 "-n", f"fault{self.started}@%h", "--pool", "solo", "--without-heartbeat", "--without-gossip",
                 "--without-mingle", "-l", "INFO"],
                cwd=ROOT, env=dict(os.environ, DSAR_CELERY_EAGER="0"), stdout=log, stderr=subprocess.STDOUT)
        self.procs[proc] = log_path
        if wait:
            self.wait_ready(proc)
        return proc

    def ready(self, proc: subprocess.Popen[bytes]) -> bool:
        return b" ready." in self.procs[proc].read_bytes()

    def wait_ready(self, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready(proc):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("worker did not start:\n" + self.procs[proc].read_text(errors="replace"))
            time.sleep(0.05)

    def kill_one(self, rng: random.Random) -> bool:
        """SIGKILL one running, ready worker chosen at random and start a replacement; False when none is ready."""
        alive = [p for p in self.procs if p.poll() is None and self.ready(p)]
        if not alive:
            return False
        victim = rng.choice(alive)
        victim.kill()
        victim.wait(timeout=20)
        self.start(wait=False)
        return True

    def log_text(self) -> str:
        return "".join(path.read_text(errors="replace") for path in self.procs.values())

    def stop(self) -> None:
        """At the end of a test nothing is left to finish: kill outright (a warm shutdown waits for the
        retries the worker holds)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=20)


class Webhook:
    """The real API app under uvicorn on a free loopback port, in this process (it shares the test's settings)."""

    def __init__(self) -> None:
        import uvicorn

        from dsar.api.app import create_app

        self.server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=free_port(),
                                                    log_level="warning", lifespan="off", ws="none"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.server.config.port}", timeout=60)

    def post(self, raw: bytes) -> httpx.Response:
        return self.http.post("/intake/email", content=raw,
                              headers={"X-DSAR-Token": TOKEN, "Content-Type": "message/rfc822"})

    def post_all(self, mails: Sequence[bytes], threads: int = 8,
                 each: Callable[[int], None] | None = None) -> list[httpx.Response]:
        """Post every message (several at a time, as a mail system does); `each(n)` runs after the n-th answer."""
        done = iter(range(1, len(mails) + 1))
        lock = threading.Lock()

        def one(raw: bytes) -> httpx.Response:
            response = self.post(raw)
            if each is not None:
                with lock:
                    n = next(done)
                each(n)
            return response

        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(one, mails))

    def close(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(timeout=15)


@dataclass
class Stack:
    """Everything a fault test drives (see the `stack` fixture)."""

    pg: PrivatePostgres
    redis: PrivateRedis
    smtp: Smtp
    webhook: Webhook
    workers: Workers


@dataclass
class Counts:
    """What became of a burst: messages in, cases, acknowledgements the SMTP server received."""

    messages: int
    cases: int = 0
    sent: int = 0  # distinct acknowledgement Message-IDs received
    duplicates: int = 0  # a second case for a message, or a second acknowledgement (another Message-ID) for a case
    lost: int = 0  # a message without a case, or a case whose acknowledgement never arrived
    redelivered: int = 0  # the same acknowledgement (same Message-ID) accepted again by the SMTP server
    unsent: int = 0  # acknowledgement notices not in status "sent" in the database
    extra: dict[str, object] = field(default_factory=dict)
    states: dict[str, dict[str, int]] = field(default_factory=dict)  # inbound and unsent notice statuses

    @property
    def complete(self) -> bool:
        return self.lost == 0 and self.unsent == 0

    def line(self, name: str) -> str:
        more = "".join(f" {k}={v}" for k, v in self.extra.items())
        return (f"faults[{name}]: messages={self.messages} sent={self.sent} cases={self.cases} "
                f"duplicates={self.duplicates} lost={self.lost} redelivered={self.redelivered} "
                f"unsent={self.unsent}{more}")


def processed(message_ids: Sequence[str]) -> int:
    """How many of the burst's messages have been processed (cases opened) so far."""
    with session_scope() as s:
        return len(s.exec(select(InboundMessage.id).where(
            col(InboundMessage.message_id).in_([mid.strip("<>") for mid in message_ids]),
            InboundMessage.status != "stored")).all())


def count(message_ids: Sequence[str], smtp: Smtp) -> Counts:
    """Match the burst's Message-IDs to their cases, and each case to the acknowledgements the server took."""
    wanted = [mid.strip("<>") for mid in message_ids]
    with session_scope() as s:
        inbound = dict(s.exec(select(InboundMessage.message_id, InboundMessage.id)
                              .where(col(InboundMessage.message_id).in_(wanted))).all())
        cases = s.exec(select(Request.inbound_id, Request.number)
                       .where(col(Request.inbound_id).in_(list(inbound.values())))).all()
        unsent = s.exec(select(Notice.status).where(Notice.kind == "acknowledgement", Notice.status != "sent")).all()
        statuses = Counter(s.exec(select(InboundMessage.status)
                                  .where(col(InboundMessage.message_id).in_(wanted))).all())
    per_message = Counter(inbound_id for inbound_id, _ in cases)
    numbers = {number for _, number in cases}
    deliveries = [(m.group(1), mid) for mid, subject in list(smtp.received)
                  if (m := ACK_ID.search(mid)) and m.group(1) in subject]
    acks_per_case = Counter(number for number, _ in set(deliveries))
    counts = Counts(messages=len(wanted), cases=len(cases), sent=len(set(deliveries)), unsent=len(unsent))
    counts.states = {"inbound": dict(statuses), "unsent": dict(Counter(unsent))}
    counts.lost = sum(1 for mid in wanted if per_message[inbound.get(mid)] == 0) + \
        sum(1 for n in numbers if acks_per_case[n] == 0)
    counts.duplicates = sum(n - 1 for n in per_message.values() if n > 1) + \
        sum(n - 1 for n in acks_per_case.values() if n > 1) + sum(1 for n in acks_per_case if n not in numbers)
    counts.redelivered = len(deliveries) - len(set(deliveries))
    return counts


def recover(message_ids: Sequence[str], smtp: Smtp, *, timeout: float, after_seconds: int = 2) -> Counts:
    """Play celery beat's recovery entries, on a short schedule, until the burst is complete (or `timeout`):
    whenever the queues are empty, queue `requeue_stored` (messages still stored: the broker lost them) and
    `sweep_outbox` (notices still waiting, or claimed by a worker that died); with the queues empty, anything
    left `after_seconds` ago counts as lost, and that is also the outbox lease."""
    import redis

    from tasks.app import app
    from tasks.intake import requeue_stored
    from tasks.notices import sweep_outbox

    broker = redis.Redis.from_url(app.conf.broker_url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            counts = count(message_ids, smtp)
            if counts.complete or time.monotonic() > deadline:
                return counts
            try:
                idle = broker.llen("intake") == 0 and broker.llen("notices") == 0
                if idle:
                    requeue_stored.delay(older_than_seconds=after_seconds)
                    sweep_outbox.delay(older_than_seconds=after_seconds, lease_seconds=after_seconds)
            except redis.RedisError:
                pass  # the broker is down: what beat would do too is fail this round
            time.sleep(1.0)
    finally:
        broker.close()
