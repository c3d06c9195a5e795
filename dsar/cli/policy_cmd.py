"""`dsar policy import` and `dsar workflow validate`."""

from __future__ import annotations

from pathlib import Path

import typer

from dsar.cli import emit
from dsar.db import session_scope, upgrade
from dsar.errors import DefinitionProblem, DsarError
from dsar.settings import get_settings
from dsar.workflow.definitions import validate_paths
from dsar.workflow.importer import import_policy

policy = typer.Typer(help="개인정보 처리방침을 워크플로로 (compile privacy policies)", no_args_is_help=True)
workflow = typer.Typer(help="워크플로 정의 검사 (check workflow definitions)", no_args_is_help=True)


@policy.command("import")
def import_cmd(
    files: list[Path] = typer.Argument(..., help="Policy files (text or HTML)"),
    out: Path = typer.Option(None, "--out", help="Where to write <slug>.yaml (default: workflows/)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per file"),
) -> None:
    """Compile privacy policies into workflow definitions and register them."""
    out_dir = out or get_settings().workflows_dir
    upgrade()
    results, failed = [], 0
    for path in files:
        try:
            with session_scope() as session:
                imported = import_policy(session, path, out_dir)
        except DsarError as exc:
            failed += 1
            typer.echo(f"오류: {path}: {exc.message}", err=True)
            if as_json:
                results.append({"file": str(path), "error": exc.to_dict()})
            continue
        results.append(imported.summary)
        reg = imported.registered
        state = f"v{reg.version.version} 등록" if reg.created else f"v{reg.version.version} 그대로 (변경 없음)"
        lines = [f"{path} → {imported.path} ({imported.summary['org']}, {state})"]
        lines += [f"  경고: {w}" for w in imported.summary["warnings"]]
        lines += ["  " + d for d in reg.diff]
        typer.echo("\n".join(lines), err=as_json)
    emit(results, as_json)
    if failed:
        raise typer.Exit(2)


@workflow.command("validate")
def validate_cmd(
    paths: list[Path] = typer.Argument(None, help="Files or folders (default: workflows/)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check workflow definitions (schema and stage graph); report file, line and reason."""
    targets = paths or [get_settings().workflows_dir]
    missing = [p for p in targets if not p.exists()]
    problems = validate_paths([p for p in targets if p.exists()])
    for p in missing:
        problems.insert(0, DefinitionProblem(str(p), None, "파일이나 폴더가 없습니다 (not found)"))
    emit({"ok": not problems, "problems": [p.as_dict() for p in problems]}, as_json,
         "\n".join(map(str, problems)) if problems else "모든 정의가 올바릅니다 (all definitions valid)")
    if problems:
        if not as_json:
            typer.echo(f"문제 {len(problems)}건", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(policy, name="policy")
    app.add_typer(workflow, name="workflow")
