"""Fixtures of the fault tests: private Redis and PostgreSQL servers (started once, stopped and restarted by the
tests, removed at the end) and, per test, the whole system wired to them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT, reset_caches
from tests.faults.harness import Smtp, Stack, Webhook, Workers
from tests.faults.services import PrivatePostgres, PrivateRedis
from tests.intake_channels.helpers import TOKEN, reconnect_broker


@pytest.fixture(scope="session")
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    server.start()
    yield server
    server.close()


@pytest.fixture
def stack(private_pg: PrivatePostgres, private_redis: PrivateRedis, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Stack]:
    """A fresh database on the private PostgreSQL with the test organisation, the private Redis as broker (this
    process publishes there too), an SMTP server, the webhook; workers are started by the test."""
    from dsar.db import session_scope, upgrade
    from dsar.workflow.definitions import load_bases, load_organisation
    from dsar.workflow.registry import register
    from tasks.app import app

    if not private_pg.running():
        private_pg.start()  # a test that failed half-way may have left it stopped
    if not private_redis.ping():
        private_redis.start()
    smtp = Smtp()
    smtp.start()
    database = private_pg.create_database(re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:60])
    for name, value in {"DSAR_DATABASE_URL": database, "DSAR_BROKER_URL": private_redis.url(),
                        "DSAR_DATA_DIR": str(tmp_path / "var"), "DSAR_SMTP_HOST": "127.0.0.1",
                        "DSAR_SMTP_PORT": str(smtp.port), "DSAR_MAIL_TRANSPORT": "smtp",
                        "DSAR_WEBHOOK_TOKEN": TOKEN}.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    upgrade()
    resolved = load_organisation(ROOT / "tests" / "data" / "workflows" / "testorg.yaml", load_bases())
    with session_scope() as session:
        register(session, resolved)
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = private_redis.url(), False
    reconnect_broker()
    with redis.Redis.from_url(private_redis.url()) as client:
        client.flushdb()
    webhook = Webhook()
    workers = Workers(tmp_path)
    try:
        yield Stack(private_pg, private_redis, smtp, webhook, workers)
    finally:
        workers.stop()
        webhook.close()
        smtp.stop()
        app.conf.broker_url, app.conf.task_always_eager = saved
        reconnect_broker()
        reset_caches()
