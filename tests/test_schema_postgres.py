"""What the PostgreSQL schema and connections do for intake under load (migration 0005, `dsar.db`)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, text

from dsar.db import get_engine, session_scope
from dsar.models import InboundMessage
from tasks.intake import _oldest_waiting
from tests.schema import migrate

pytestmark = pytest.mark.parametrize("db", ["postgresql"], indirect=True)


def _storage(table: str, column: str) -> str:
    with get_engine().connect() as conn:
        return str(conn.execute(text(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attname = :c"),
            {"t": table, "c": column}).scalar_one())


def test_ciphertext_is_stored_uncompressed_and_the_downgrade_restores_the_default(db: str) -> None:
    columns = [("notice", "html"), ("notice", "context"), ("inboundmessage", "raw"), ("request", "details")]
    assert {_storage(t, c) for t, c in columns} == {"e"}  # EXTERNAL: out of line, never compressed
    migrate("0004", down=True)
    try:
        assert {_storage(t, c) for t, c in columns} == {"x"}  # EXTENDED, PostgreSQL's default
    finally:
        migrate("head")
    assert _storage("notice", "html") == "e"


def test_the_batch_top_up_reads_only_the_waiting_messages(db: str) -> None:
    at = datetime(2026, 11, 23, tzinfo=UTC)
    with session_scope() as session:
        session.add_all([InboundMessage(received_at=at, source="test", sha256=f"{i:064d}", raw=b"x",
                                        status="processed" if i % 100 else "stored") for i in range(3000)])
    seen: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    event.listen(get_engine(), "before_cursor_execute", keep)
    try:
        with session_scope() as session:
            assert _oldest_waiting(session, [101], limit=5) == [1, 201, 301, 401, 501]
    finally:
        event.remove(get_engine(), "before_cursor_execute", keep)
    statement, parameters = next((s, p) for s, p in seen if "FOR UPDATE SKIP LOCKED" in s)
    with get_engine().connect() as conn:  # the same statement, explained: through the partial index
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))  # type: ignore[arg-type]
    assert "ix_inboundmessage_waiting" in plan, plan


def test_no_statement_keeps_a_plan_made_for_other_values(db: str) -> None:
    with get_engine().connect() as conn:
        for i in range(10):  # psycopg would prepare it from the sixth run on
            conn.execute(text("SELECT id FROM inboundmessage WHERE message_id = :m"), {"m": f"m{i}@example.com"})
        assert conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one() == 0
