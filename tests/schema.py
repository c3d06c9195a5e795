"""Moving a test database's schema to one migration (for tests of that migration)."""

from alembic import command
from alembic.config import Config

from dsar.db import MIGRATIONS, get_engine


def migrate(revision: str, *, down: bool = False) -> None:
    """Move the current database's schema up or down to `revision`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with get_engine().begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)
