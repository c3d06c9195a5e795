"""Shared fixtures: a clean real database per test (SQLite and PostgreSQL), a flushed Redis DB index, a real
SMTP server on loopback, and a real Celery worker process.

Services are the real ones on 127.0.0.1 (.ci/run starts them). Override with DSAR_TEST_REDIS_URL and
DSAR_TEST_PG_URL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("DSAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PG_ADMIN_URL = os.environ.get("DSAR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parent.parent

# Before anything imports the settings or the Celery app: tests never touch the default Redis DB or var/.
# Staff passwords are hashed with cheap argon2 costs here (the tests hash hundreds); production keeps the defaults.
os.environ.update({"DSAR_ENV": "test", "DSAR_BROKER_URL": REDIS_URL, "DSAR_CELERY_EAGER": "1",
                   "DSAR_MAIL_TRANSPORT": "smtp", "DSAR_SMTP_PORT": "1",
                   "DSAR_PASSWORD_TIME_COST": "1", "DSAR_PASSWORD_MEMORY_KIB": "1024"})


def reset_caches() -> None:
    from dsar.db import dispose_engines
    from dsar.settings import get_settings

    get_settings.cache_clear()
    dispose_engines()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of our own for this test session, dropped at the end."""
    import psycopg

    name = f"dsar_test_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    from dsar.db import dispose_engines

    dispose_engines()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'")]
        if tables:
            conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A clean, migrated database (each test runs once on SQLite and once on PostgreSQL)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dsar.db'}"
    else:
        url = request.getfixturevalue("pg_database")
        if _has_schema(url):
            _truncate_pg(url)
    monkeypatch.setenv("DSAR_DATABASE_URL", url)
    monkeypatch.setenv("DSAR_DATA_DIR", str(tmp_path / "var"))
    reset_caches()
    from dsar.db import upgrade

    upgrade()
    yield url
    reset_caches()


def _has_schema(url: str) -> bool:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0] is not None


@pytest.fixture
def sqlite_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Only SQLite (for tests whose subject is not the database)."""
    url = f"sqlite:///{tmp_path / 'dsar.db'}"
    monkeypatch.setenv("DSAR_DATABASE_URL", url)
    monkeypatch.setenv("DSAR_DATA_DIR", str(tmp_path / "var"))
    reset_caches()
    from dsar.db import upgrade

    upgrade()
    yield url
    reset_caches()


@pytest.fixture
def redis_db() -> Iterator[object]:
    """The dedicated Redis DB index, flushed before and after the test."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class Mailbox:
    """What the loopback SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    def handle(self, envelope_content: bytes) -> None:
        self.messages.append(message_from_bytes(envelope_content, policy=policy.default))  # type: ignore[arg-type]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port; settings point at it."""
    from aiosmtpd.controller import Controller

    box = Mailbox()

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
            box.handle(envelope.original_content or envelope.content)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("DSAR_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DSAR_SMTP_PORT", str(port))
    monkeypatch.setenv("DSAR_MAIL_TRANSPORT", "smtp")
    from dsar.settings import get_settings

    get_settings.cache_clear()
    box.port = port  # type: ignore[attr-defined]
    yield box
    controller.stop()
    get_settings.cache_clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def celery_worker_process(redis_db: object, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker in its own process, consuming every queue from the test Redis DB.

    The caller must have set up the database and SMTP fixtures first: the worker inherits the environment.
    """
    env = dict(os.environ, DSAR_CELERY_EAGER="0")
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q", "intake,notices,reminders",
         "--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if b"ready" in (tmp_path / "worker.log").read_bytes():
            break
        if proc.poll() is not None:
            raise RuntimeError((tmp_path / "worker.log").read_text())
        time.sleep(0.1)
    yield proc
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture
def not_eager() -> Iterator[None]:
    """Send tasks to the broker for real (the rest of the suite runs them inline)."""
    from tasks import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def testorg(db: str) -> int:
    """The hand-written test organisation, registered; returns its id."""
    from dsar.db import session_scope
    from dsar.workflow.definitions import load_bases, load_organisation
    from dsar.workflow.registry import register

    resolved = load_organisation(ROOT / "tests" / "data" / "workflows" / "testorg.yaml", load_bases())
    with session_scope() as session:
        return register(session, resolved).org.id or 0
