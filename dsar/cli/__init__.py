"""The `dsar` command line. Every command honours DSAR_DATABASE_URL and prints JSON with --json.

Errors never end in a traceback: a `DsarError` prints its message (and, with --json, its code) and exits with
its exit code (2 for bad input, 1 otherwise).
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import typer

from dsar.errors import DsarError

app = typer.Typer(help="dsar: 개인정보 열람·정정·삭제·처리정지 요구 처리 엔진 (Korean DSAR workflow engine)",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


def emit(data: Any, as_json: bool, human: str | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    elif human is not None:
        typer.echo(human)


def _register() -> None:
    from dsar.cli import (
        audit_cmd,
        demo_cmd,
        intake_cmd,
        keys_cmd,
        policy_cmd,
        requests_cmd,
        retention_cmd,
        service_cmd,
        users_cmd,
    )

    for module in (policy_cmd, intake_cmd, requests_cmd, audit_cmd, demo_cmd, service_cmd, users_cmd, keys_cmd,
                   retention_cmd):
        module.register(app)


def main() -> None:
    import click

    from dsar import logs

    logs.configure(logging.WARNING)  # the command's own output is for people; library chatter is not
    _register()
    try:
        code = app(standalone_mode=False)
    except DsarError as exc:
        if "--json" in sys.argv:
            typer.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False, indent=2, default=str))
        typer.echo(f"오류: {exc.message}", err=True)
        raise SystemExit(exc.exit_code) from None
    except click.ClickException as exc:  # usage errors: a missing argument, an unknown option
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Abort:
        raise SystemExit(1) from None
    raise SystemExit(code if isinstance(code, int) else 0)
