"""Loading definitions from disk and resolving an organisation's file onto the statutory base workflows.

A resolved definition is plain JSON: it is what a case pins (stored as a `WorkflowVersion`), so a later edit
of the YAML never changes a case already running.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsar.errors import DefinitionProblem, WorkflowDefinitionError
from dsar.settings import get_settings
from dsar.workflow.validate import graph_problems, schema_problems
from dsar.workflow.yamlio import load_yaml, parse_yaml

SCHEMA_FILE = Path("schema") / "workflow.schema.json"
BASE_DIR = "base"


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    label: str
    requires: frozenset[str]
    notice: str | None
    outcome: str | None


@dataclass(frozen=True)
class RightWorkflow:
    """The resolved workflow of one right for one organisation: what the engine enforces."""

    right: str
    spec: dict[str, Any]

    @property
    def initial(self) -> str:
        return str(self.spec["initial"])

    @property
    def clock(self) -> dict[str, Any]:
        return dict(self.spec["clock"])

    def stage_label(self, stage: str) -> str:
        return str(self.spec["stages"].get(stage, {}).get("label", stage))

    def is_final(self, stage: str) -> bool:
        return bool(self.spec["stages"].get(stage, {}).get("final"))

    def pauses_clock(self, stage: str) -> bool:
        return bool(self.spec["stages"].get(stage, {}).get("pauses_clock"))

    def transition(self, name: str) -> Transition | None:
        t = self.spec["transitions"].get(name)
        if t is None:
            return None
        return Transition(
            name, tuple(t["from"]), t["to"], t["label"], frozenset(t.get("requires", [])), t.get("notice"),
            t.get("outcome"),
        )

    def allowed_from(self, stage: str) -> list[Transition]:
        return [t for name in self.spec["transitions"] if (t := self.transition(name)) and stage in t.sources]

    def ground(self, code: str) -> dict[str, Any] | None:
        return next((g for g in self.spec.get("refusal_grounds", []) if g["code"] == code), None)


def workflows_dir() -> Path:
    return get_settings().workflows_dir


def check_document(data: Any, lines: Any, name: str, *, root: Path, templates_dir: Path | None) -> None:
    """Schema first; the graph only for a schema-valid base (its shape is then known)."""
    problems = schema_problems(data, lines, name, root / SCHEMA_FILE)
    if not problems and data.get("kind") == "base":
        problems = graph_problems(data, lines, name, templates_dir)
    if problems:
        raise WorkflowDefinitionError(problems)


def load_bases(root: Path | None = None, templates_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """All statutory base workflows under `root/base`, keyed by their `key`."""
    root = root or workflows_dir()
    templates_dir = templates_dir or get_settings().templates_dir
    bases: dict[str, dict[str, Any]] = {}
    problems: list[DefinitionProblem] = []
    for path in sorted((root / BASE_DIR).glob("*.yaml")):
        try:
            data, lines = load_yaml(path)
            check_document(data, lines, str(path), root=root, templates_dir=templates_dir)
        except WorkflowDefinitionError as exc:
            problems.extend(exc.problems)
            continue
        if data["kind"] != "base":
            problems.append(DefinitionProblem(str(path), lines.line(("kind",)), "base/ 폴더에는 base 정의만 둡니다"))
            continue
        bases[data["key"]] = data
    if problems:
        raise WorkflowDefinitionError(problems)
    return bases


def load_organisation(
    path: Path, bases: dict[str, dict[str, Any]], *, text: str | None = None, root: Path | None = None
) -> dict[str, Any]:
    """Read, check and resolve one organisation file; `text` lets a caller check content not yet on disk."""
    root = root or workflows_dir()
    name = str(path)
    data, lines = parse_yaml(text, name) if text is not None else load_yaml(path)
    check_document(data, lines, name, root=root, templates_dir=None)
    if data["kind"] != "organisation":
        raise WorkflowDefinitionError([DefinitionProblem(name, lines.line(("kind",)), "조직 정의가 아닙니다")])
    problems = []
    slug = data["organisation"]["slug"]
    if text is None and path.stem != slug:
        problems.append(
            DefinitionProblem(name, lines.line(("organisation", "slug")), f"파일 이름은 '{slug}.yaml'이어야 합니다")
        )
    for right, spec in data["rights"].items():
        base = bases.get(spec["base"])
        if base is None:
            reason = f"권리 '{right}'의 기본 워크플로 '{spec['base']}'가 workflows/base/에 없습니다"
            problems.append(DefinitionProblem(name, lines.line(("rights", right, "base")), reason))
        elif base["right"] != right:
            reason = f"기본 워크플로 '{spec['base']}'는 '{base['right']}' 권리용입니다 ('{right}'에 쓸 수 없음)"
            problems.append(DefinitionProblem(name, lines.line(("rights", right, "base")), reason))
    if problems:
        raise WorkflowDefinitionError(problems)
    return resolve(data, bases)


def resolve(org: dict[str, Any], bases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge the organisation's settings onto a copy of each right's base workflow."""
    settings = org.get("settings", {})
    internal_default = settings.get("internal_days_without_delay", get_settings().internal_days_without_delay)
    workflows = {}
    for right, spec in org["rights"].items():
        base = copy.deepcopy(bases[spec["base"]])
        clock = base["clock"]
        clock["counting"] = settings.get("counting", clock.get("counting", "civil"))
        if not clock["statutory"]:
            clock["days"] = internal_default
        if "internal_target_days" in settings:
            clock["internal_target_days"] = min(settings["internal_target_days"], clock["days"])
        base["named_in_policy"] = spec.get("named_in_policy", True)
        workflows[right] = {k: v for k, v in base.items() if k not in ("schema", "kind")}
    resolved = {k: v for k, v in org.items() if k != "rights"}
    resolved["workflows"] = workflows
    return resolved


def digest(resolved: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(resolved, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def validate_paths(paths: list[Path]) -> list[DefinitionProblem]:
    """Every problem in the given files or folders (base files and organisation files alike)."""
    root = workflows_dir()
    problems: list[DefinitionProblem] = []
    try:
        bases = load_bases(root)
    except WorkflowDefinitionError as exc:
        return exc.problems
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.rglob("*.yaml")) if p.is_dir() else [p])
    for f in files:
        if f.resolve().parent == (root / BASE_DIR).resolve():
            continue  # already checked by load_bases
        try:
            data, lines = load_yaml(f)
            if isinstance(data, dict) and data.get("kind") == "base":
                check_document(data, lines, str(f), root=root, templates_dir=get_settings().templates_dir)
            else:
                load_organisation(f, bases, root=root)
        except WorkflowDefinitionError as exc:
            problems.extend(exc.problems)
    return problems


def right_workflow(resolved: dict[str, Any], right: str) -> RightWorkflow:
    return RightWorkflow(right, resolved["workflows"][right])
