"""Alembic environment: runs on the connection `dsar.db.upgrade` hands over, or on DSAR_DATABASE_URL."""

from alembic import context
from sqlmodel import SQLModel

import dsar.auth.models  # noqa: F401  (staff accounts, tokens, notes)
import dsar.models  # noqa: F401  (registers the tables)
import dsar.verification_models  # noqa: F401  (identity checks)
from dsar.db import get_engine

target_metadata = SQLModel.metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        with get_engine().begin() as conn:
            _migrate(conn)
    else:
        _migrate(connection)


def _migrate(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
