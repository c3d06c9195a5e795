"""Checks a definition when it is loaded: the published JSON Schema, then the stage graph.

Every problem is reported with file, line and reason, all at once, so an author fixes a file in one pass.
"""

from __future__ import annotations

import json
from collections import deque
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from dsar.errors import DefinitionProblem
from dsar.workflow.yamlio import LineMap


@lru_cache(maxsize=4)
def _validator(schema_path: Path) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_path.read_text(encoding="utf-8")))


def schema_problems(data: Any, lines: LineMap, name: str, schema_path: Path) -> list[DefinitionProblem]:
    problems = []
    validator = _validator(schema_path)
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        # a oneOf failure says little: report the errors of the branch that matches the document's kind
        if error.validator == "oneOf" and isinstance(data, dict):
            branch = {"base": 0, "organisation": 1}.get(str(data.get("kind")))
            inner = [e for e in error.context or [] if e.relative_schema_path and e.relative_schema_path[0] == branch]
            for sub in inner:
                problems.append(_problem(sub, lines, name))
            if inner or branch is None:
                continue
        problems.append(_problem(error, lines, name))
    return problems


def _problem(error: Any, lines: LineMap, name: str) -> DefinitionProblem:
    path = tuple(error.absolute_path)
    where = ".".join(map(str, path)) or "(문서)"
    return DefinitionProblem(name, lines.line(path), f"{where}: {error.message}")


def graph_problems(
    data: dict[str, Any], lines: LineMap, name: str, templates_dir: Path | None
) -> list[DefinitionProblem]:
    """Every stage reachable, no dead ends, final stages final, every referenced notice template present."""
    problems: list[DefinitionProblem] = []

    def add(path: tuple[str | int, ...], reason: str) -> None:
        problems.append(DefinitionProblem(name, lines.line(path), reason))

    stages: dict[str, Any] = data["stages"]
    transitions: dict[str, Any] = data["transitions"]
    initial = data["initial"]
    if initial not in stages:
        add(("initial",), f"시작 단계 '{initial}'가 stages에 없습니다 (initial stage is not defined)")
        return problems
    outgoing: dict[str, list[str]] = {s: [] for s in stages}
    for tname, t in transitions.items():
        for src in t["from"]:
            if src not in stages:
                add(("transitions", tname, "from"), f"전이 '{tname}'의 출발 단계 '{src}'가 정의되지 않았습니다")
            else:
                outgoing[src].append(t["to"])
        if t["to"] not in stages:
            add(("transitions", tname, "to"), f"전이 '{tname}'의 도착 단계 '{t['to']}'가 정의되지 않았습니다")
        if "ground" in t.get("requires", []) and not data.get("refusal_grounds"):
            add(("transitions", tname), f"전이 '{tname}'은 법적 근거를 요구하지만 refusal_grounds가 비어 있습니다")
        if "extension_days" in t.get("requires", []) and not data["clock"].get("max_extensions"):
            add(("transitions", tname), f"전이 '{tname}'은 기간 연장이지만 clock.max_extensions가 없습니다")
        notice = t.get("notice")
        if notice and templates_dir is not None and not _template_exists(templates_dir, notice):
            add(("transitions", tname, "notice"), f"통지 템플릿 '{notice}'가 templates/에 없습니다")
    ack = data.get("acknowledgement")
    if ack and templates_dir is not None and not _template_exists(templates_dir, ack):
        add(("acknowledgement",), f"통지 템플릿 '{ack}'가 templates/에 없습니다")
    if problems:
        return problems

    finals = {s for s, spec in stages.items() if spec.get("final")}
    if not finals:
        add(("stages",), "종결(final) 단계가 하나도 없습니다 (no final stage)")
    for s in sorted(finals):
        if outgoing[s]:
            add(("stages", s), f"종결 단계 '{s}'에서 나가는 전이가 있습니다 (final stage has a way out)")
    reachable = _reach(initial, outgoing)
    for s in stages:
        if s not in reachable:
            add(("stages", s), f"단계 '{s}'에 도달할 수 없습니다 (unreachable from '{initial}')")
        elif s not in finals and not outgoing[s]:
            add(("stages", s), f"단계 '{s}'에서 나가는 전이가 없습니다 (dead end)")
        elif s not in finals and finals and not (_reach(s, outgoing) & finals):
            add(("stages", s), f"단계 '{s}'에서 종결 단계로 갈 수 없습니다 (no path to a final stage)")
    return problems


def _reach(start: str, outgoing: dict[str, list[str]]) -> set[str]:
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in outgoing.get(queue.popleft(), []):
            if nxt in outgoing and nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _template_exists(templates_dir: Path, kind: str) -> bool:
    """A notice kind the catalogue knows, whose HTML and text templates are both present."""
    from dsar.letters.catalog import NOTICE_KINDS

    spec = NOTICE_KINDS.get(kind)
    return spec is not None and all((templates_dir / f"{spec.template}.{ext}.j2").is_file() for ext in ("html", "txt"))
