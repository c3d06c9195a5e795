"""`dsar demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from dsar.cli import emit


def demo_cmd(
    out: Path = typer.Option(Path("var/demo"), "--out", help="Workspace for the demo database and files"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Run the whole pipeline on the seed policies and sample e-mails; write the notices; print a summary."""
    from dsar import demo
    from dsar.cli.requests_cmd import CASE_COLUMNS, table

    result = demo.run(out)
    if as_json:
        emit(result, True)
        return
    lines = ["정책 → 워크플로"]
    for p in result["policies"]:
        lines.append(f"  {p['org']} ({p['slug']}) → {p['workflow']}")
        lines += [f"    경고: {w}" for w in p["warnings"]]
    lines += ["", "접수"]
    for r in result["intake"]:
        state = (f"격리: {r['problem']['code']}" if r["status"] == "quarantined" else
                 "요구 아님" if r["not_a_request"] else f"{', '.join(r['cases'])} → {r['org'] or '미배정(unrouted)'}")
        lines.append(f"  {Path(r['file']).name}: {state}")
    lines += ["", "사건", table(result["cases"], CASE_COLUMNS), ""]
    a = result["audit"]
    lines.append(f"감사 체인: {'정상' if a['ok'] else '손상'} (체인 {a['chains']}개, 사건 {a['events']}건)")
    lines.append(f"통지서 {result['files']}개 → {result['notices_dir']}")
    lines.append(f"발송 메일(.eml) → {result['outbox_dir']}")
    lines.append(f"데이터베이스 → {result['database']}")
    lines.append(f"소요 시간 {result['seconds']}초")
    typer.echo("\n".join(lines))
    if not a["ok"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_cmd)
