"""A strict YAML reader that remembers where every value came from.

Safe loading only; YAML 1.1's yes/no/on/off are plain strings (only true/false are booleans); a key written
twice in one mapping is an error, not a silent overwrite. Every node's line is kept so that a problem found
later (schema, graph) can be reported as file:line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from dsar.errors import DefinitionProblem, WorkflowDefinitionError

Path_ = tuple[str | int, ...]


class _StrictLoader(yaml.SafeLoader):
    pass


_StrictLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class LineMap:
    """Line (1-based) of each value, addressed by its path from the document root."""

    def __init__(self) -> None:
        self._lines: dict[Path_, int] = {}

    def add(self, path: Path_, line: int) -> None:
        self._lines.setdefault(path, line)

    def line(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self._lines:
                return self._lines[p]
            p = p[:-1]
        return self._lines.get((), 1)


def load_yaml(path: Path) -> tuple[Any, LineMap]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkflowDefinitionError([DefinitionProblem(name, None, "파일이 없습니다 (file not found)")]) from None
    except UnicodeDecodeError as exc:
        raise WorkflowDefinitionError(
            [DefinitionProblem(name, None, f"UTF-8 텍스트가 아닙니다 (not UTF-8 text: byte {exc.start})")]
        ) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[Any, LineMap]:
    lines = LineMap()
    try:
        node = yaml.compose(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise WorkflowDefinitionError([DefinitionProblem(name, line, f"YAML 문법 오류: {reason}")]) from None
    if node is None:
        raise WorkflowDefinitionError([DefinitionProblem(name, 1, "빈 파일입니다 (empty definition)")])
    problems: list[DefinitionProblem] = []
    data = _Builder(name, lines, problems).build(node, ())
    if problems:
        raise WorkflowDefinitionError(problems)
    return data, lines


class _Builder:
    """Turns a composed node tree into plain data, recording lines and duplicate keys on the way."""

    def __init__(self, name: str, lines: LineMap, problems: list[DefinitionProblem]) -> None:
        self.name, self.lines, self.problems = name, lines, problems
        self.scalars = _StrictLoader("")

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.lines.add(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.scalars.construct_object(key_node)
                if key in out:
                    line = key_node.start_mark.line + 1
                    self.problems.append(
                        DefinitionProblem(self.name, line, f"키 '{key}'가 두 번 쓰였습니다 (duplicate key)")
                    )
                    continue
                self.lines.add((*path, key), key_node.start_mark.line + 1)
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalars.construct_object(node)
