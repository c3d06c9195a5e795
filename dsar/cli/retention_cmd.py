"""`dsar retention purge [--dry-run]`: wipe the personal data of cases closed longer than DSAR_RETENTION_DAYS."""

from __future__ import annotations

import typer

from dsar import retention
from dsar.cli import emit
from dsar.clock import clock_from_settings
from dsar.db import upgrade
from dsar.settings import get_settings

retention_app = typer.Typer(help="보존 기간이 지난 개인정보 파기 (retention purge)", no_args_is_help=True)


@retention_app.command("purge")
def purge_cmd(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be purged"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Purge closed cases (and their messages) past the retention period; keeps tombstones and the audit log."""
    upgrade()
    report = retention.run(clock=clock_from_settings(), dry_run=dry_run)
    verb = "파기 대상" if dry_run else "파기함"
    human = (f"보존 기간 {get_settings().retention_days}일 (종결 {report.cutoff:%Y-%m-%d} 이전): "
             f"사건 {len(report.cases)}건, 메시지 {len(report.messages)}건 {verb}")
    if report.cases:
        human += "\n  " + ", ".join(report.cases)
    emit(report.as_dict(), as_json, human)


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
