"""Every notice a workflow can send renders with that organisation's real data (contacts as its policy gives
them, possibly incomplete), for the shipped workflows and every policy of the compiler's corpus."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from dsar.letters import render_notice
from dsar.letters.context import NoticeContext
from dsar.letters.samples import sample_context
from dsar.notices import org_context
from dsar.policy import compile_policy, read_policy_file
from dsar.settings import PROJECT_ROOT
from dsar.workflow.compile import organisation_document
from dsar.workflow.definitions import load_bases, load_organisation, resolve

CORPUS = PROJECT_ROOT / "tests" / "data" / "policies"


def _definitions() -> list[tuple[str, dict[str, Any]]]:
    bases = load_bases()
    found = [(p.stem, load_organisation(p, bases)) for p in sorted((PROJECT_ROOT / "workflows").glob("*.yaml"))]
    for policy in sorted(CORPUS.glob("*.txt")) + sorted(CORPUS.glob("*.html")):
        extract = compile_policy(read_policy_file(policy), source=policy.name).to_json()
        found.append((policy.stem, resolve(organisation_document(extract, source=policy.name), bases)))
    return found


DEFINITIONS = _definitions()


def _kinds(definition: dict[str, Any]) -> set[str]:
    kinds = set()
    for workflow in definition["workflows"].values():
        kinds.add(workflow["acknowledgement"])
        kinds.update(t["notice"] for t in workflow["transitions"].values() if t.get("notice"))
    return kinds


def test_the_corpus_and_the_shipped_workflows_are_all_covered() -> None:
    names = [name for name, _ in DEFINITIONS]
    assert {"rsupport", "alpaco"} <= set(names) and len(names) >= 12


@pytest.mark.parametrize(("name", "definition"), DEFINITIONS, ids=[n for n, _ in DEFINITIONS])
def test_every_notice_of_the_workflow_renders_with_the_organisations_data(name: str, definition: dict) -> None:
    org = NoticeContext.from_dict({"org": org_context(definition), "notice_date": "2026-12-01"}).org
    for kind in sorted(_kinds(definition)):
        rendered = render_notice(kind, replace(sample_context(kind), org=org))
        assert org.name in rendered.text and org.name in rendered.html, (name, kind)
        if org.officer and org.officer.name:
            assert org.officer.name in rendered.text, (name, kind)
