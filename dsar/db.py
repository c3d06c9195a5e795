"""Database engine, sessions and schema upgrades (Alembic), the same code on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, SQLModel, create_engine

from dsar.errors import ServiceUnavailable
from dsar.settings import get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


_ENGINES: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """One engine (connection pool) per database URL for the life of the process."""
    url = url or get_settings().resolved_database_url
    if url not in _ENGINES:
        _ENGINES[url] = _create(url)
    return _ENGINES[url]


def dispose_engines() -> None:
    """Close every pool (after settings change, and between tests)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def _create(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    # No server-side prepared statements: every statement is planned for its own values. psycopg prepares a
    # statement after five runs, and PostgreSQL may then keep one generic plan for it, made while a table was
    # still small: intake into a new database kept scanning the whole message table to look up 32 Message-IDs
    # long after it held thousands. (It also lets the pool sit behind a transaction-pooling PgBouncer.)
    engine = create_engine(url, pool_size=5, max_overflow=10, connect_args={"prepare_threshold": None})
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


PING_AFTER_IDLE_SECONDS = 1.0


def _note_checkin(_dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
    record.info["checked_in"] = time.monotonic()


def _ping_if_idle(dbapi_conn, record, _proxy) -> None:  # type: ignore[no-untyped-def]
    """Test a pooled connection before use when it sat idle (the server may have restarted meanwhile); one
    back in the pool for less than a second was just used, and pinging it too would add a round trip to every
    transaction (the outbox commits once per message). A dead connection is replaced by a new one."""
    if time.monotonic() - record.info.get("checked_in", 0.0) < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_conn.execute("SELECT 1")
    except Exception as exc:  # psycopg.OperationalError and the like: the pool discards it and connects anew
        raise DisconnectionError(str(exc)) from exc


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def upgrade(url: str | None = None) -> None:
    """Bring the schema to the newest migration (idempotent; safe at every start)."""
    engine = get_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except Exception as exc:  # connection refused, bad URL, permissions
        if "connect" in str(exc).lower() or "could not" in str(exc).lower():
            raise ServiceUnavailable(
                f"데이터베이스에 연결할 수 없습니다 ({engine.url.render_as_string(hide_password=True)}): "
                f"DSAR_DATABASE_URL을 확인하세요. cannot reach the database: {type(exc).__name__}"
            ) from exc
        raise


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(get_engine(url), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def give_ids(session: Session, rows: Sequence[SQLModel]) -> None:
    """Give the rows that have no id yet one from their table's sequence, in one query (PostgreSQL; on SQLite
    they keep None and the insert assigns them)."""
    bare = [row for row in rows if row.id is None]  # type: ignore[attr-defined]
    if not bare:
        return
    for row, row_id in zip(bare, reserve_ids(session, type(bare[0]), len(bare)) or [], strict=False):
        row.id = row_id  # type: ignore[attr-defined]


def reserve_ids(session: Session, model: type[SQLModel], count: int) -> list[int] | None:
    """`count` new primary keys of `model`'s table, drawn from its sequence in one query, on PostgreSQL.

    Rows given their ids up front are inserted in one batch without reading ids back, and whatever is derived
    from an id (a case number) is written with the row. SQLite has no sequences: None, and the caller takes the
    ids the insert assigns."""
    if count <= 0 or session.get_bind().dialect.name != "postgresql":
        return None
    table = model.__table__.name  # type: ignore[attr-defined]
    rows = session.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                           {"t": table, "n": count})
    return [int(i) for i in rows.scalars()]
