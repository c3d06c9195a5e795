"""Workflow definitions are data, checked at load: schema and graph problems come back as file:line: reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.errors import WorkflowDefinitionError
from dsar.rights import Right
from dsar.settings import PROJECT_ROOT
from dsar.workflow.definitions import load_bases, load_organisation, validate_paths
from dsar.workflow.yamlio import parse_yaml

BASE = (PROJECT_ROOT / "workflows" / "base" / "access.yaml").read_text(encoding="utf-8")
TESTORG = Path(__file__).parent / "data" / "workflows" / "testorg.yaml"


def test_every_right_has_a_valid_statutory_base_workflow() -> None:
    bases = load_bases()
    assert sorted(b["right"] for b in bases.values()) == sorted(r.value for r in Right)
    assert bases["access"]["clock"] == {"days": 10, "statutory": True, "counting": "civil"}
    assert bases["automated_decision"]["clock"]["max_extensions"] == 2
    assert bases["withdrawal"]["clock"]["statutory"] is False


def test_shipped_workflows_folder_validates_clean() -> None:
    assert validate_paths([PROJECT_ROOT / "workflows"]) == []


def _base_file(tmp_path: Path, text: str) -> list[str]:
    # a base file outside the shipped base/ folder is still checked as a base
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return [str(p) for p in validate_paths([path])]


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_unreachable_stage_is_refused_with_its_line(tmp_path: Path) -> None:
    closed = "  closed: {label: 종결, final: true}"
    text = BASE.replace(closed, closed + "\n  limbo: {label: 어디에도 없음}")
    problems = _base_file(tmp_path, text)
    line = _line_of(text, "limbo")
    assert any("limbo" in p and "도달할 수 없습니다" in p and f":{line}:" in p for p in problems), problems


def test_transition_out_of_a_final_stage_is_refused(tmp_path: Path) -> None:
    text = BASE.replace("  reconsider: {from: [objection]", "  reconsider: {from: [objection, closed]")
    problems = _base_file(tmp_path, text)
    assert any("종결 단계 'closed'" in p for p in problems), problems


def test_stage_without_way_out_is_a_dead_end(tmp_path: Path) -> None:
    text = BASE.replace("  resume: {from: [postponed], to: reviewing, label: 연기 사유 해소}\n", "")
    problems = _base_file(tmp_path, text)
    assert any("'postponed'" in p and "dead end" in p for p in problems), problems


def test_missing_notice_template_is_refused(tmp_path: Path) -> None:
    text = BASE.replace("notice: access_notice, outcome: approved", "notice: no_such_letter, outcome: approved")
    problems = _base_file(tmp_path, text)
    assert any("no_such_letter" in p and f":{_line_of(text, 'no_such_letter')}:" in p for p in problems), problems


def test_schema_error_names_the_field_and_line(tmp_path: Path) -> None:
    text = BASE.replace("clock: {days: 10,", "clock: {days: ten,")
    problems = _base_file(tmp_path, text)
    assert len(problems) == 1 and "clock.days" in problems[0] and f":{_line_of(text, 'days: ten')}:" in problems[0]


def test_duplicate_keys_and_yaml_syntax_errors_are_refused() -> None:
    with pytest.raises(WorkflowDefinitionError) as dup:
        parse_yaml("a: 1\nb: 2\na: 3\n", "x.yaml")
    assert str(dup.value) == "x.yaml:3: 키 'a'가 두 번 쓰였습니다 (duplicate key)"
    with pytest.raises(WorkflowDefinitionError) as broken:
        parse_yaml("a: [1, 2\nb: 3\n", "y.yaml")
    assert broken.value.problems[0].file == "y.yaml" and "YAML 문법 오류" in broken.value.problems[0].reason


def test_yes_and_no_stay_strings_only_true_false_are_booleans() -> None:
    data, _ = parse_yaml("a: yes\nb: no\nc: on\nd: true\n", "x.yaml")
    assert data == {"a": "yes", "b": "no", "c": "on", "d": True}


def test_organisation_resolves_onto_the_base_with_its_settings(tmp_path: Path) -> None:
    text = TESTORG.read_text(encoding="utf-8").replace("counting: civil,", "counting: civil_petitions,")
    resolved = load_organisation(tmp_path / "testorg.yaml", load_bases(), text=text)
    assert resolved["workflows"]["열람"]["clock"]["counting"] == "civil_petitions"
    assert resolved["workflows"]["열람"]["clock"]["internal_target_days"] == 7
    assert resolved["workflows"]["동의철회"]["clock"] == {"days": 10, "statutory": False, "counting": "civil_petitions",
                                                       "internal_target_days": 7}


def test_organisation_pointing_a_right_at_the_wrong_base_is_refused(tmp_path: Path) -> None:
    text = TESTORG.read_text(encoding="utf-8").replace("삭제: {base: erasure}", "삭제: {base: access}")
    path = tmp_path / "testorg.yaml"
    path.write_text(text, encoding="utf-8")
    problems = [str(p) for p in validate_paths([path])]
    line = _line_of(text, "삭제: {base: access}")
    assert problems == [f"{path}:{line}: 기본 워크플로 'access'는 '열람' 권리용입니다 ('삭제'에 쓸 수 없음)"]


def test_organisation_file_must_be_named_after_its_slug(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(TESTORG.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(WorkflowDefinitionError) as exc:
        load_organisation(path, load_bases())
    assert "testorg.yaml" in exc.value.problems[0].reason
