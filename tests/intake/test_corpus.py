"""Every message in tests/data/emails parses and classifies as tests/data/emails/expected.yaml says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from dsar.intake.classify import classify
from dsar.intake.parse import parse_message
from dsar.pii import mask_pii

CORPUS = Path(__file__).resolve().parents[1] / "data" / "emails"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text(encoding="utf-8"))


def test_every_corpus_file_has_an_expectation_and_the_corpus_is_large_enough() -> None:
    files = {p.name for p in CORPUS.glob("*.eml")}
    assert files == set(EXPECTED)
    assert len(files) >= 45


def test_thread_and_duplicate_links_name_existing_files() -> None:
    for name, exp in EXPECTED.items():
        for key in ("thread_of", "duplicate_of"):
            if key in exp:
                assert exp[key] in EXPECTED and exp[key] != name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message_matches_expectation(name: str) -> None:
    exp = EXPECTED[name]
    pm = parse_message((CORPUS / name).read_bytes())
    c = classify(pm.subject, pm.text, [a.filename for a in pm.attachments], auto_submitted=pm.auto_submitted)

    assert (pm.problem.code if pm.problem else None) == exp["problem"], pm.problem
    if pm.problem:
        assert pm.problem.message  # a Korean sentence for staff
    assert pm.sender == exp["sender"]
    assert exp["subject"] in pm.subject
    assert exp["text_contains"] in pm.text
    assert len(pm.attachments) == exp["attachments"]
    assert [r.value for r in c.rights] == exp["rights"], c.evidence
    assert c.agent is exp["agent"]
    assert c.agent_kind == exp["agent_kind"], c.evidence
    assert c.not_a_request is exp["not_a_request"], c.evidence

    for right in c.rights:
        for word in c.evidence[right.value]:
            assert word in pm.subject or word in pm.text
    if c.agent:
        assert c.evidence["agent"]
    if "charset" in exp:
        assert pm.charset == exp["charset"]
    if "language" in exp:
        assert c.language == exp["language"]
    if "sender_name" in exp:
        assert pm.sender_name == exp["sender_name"]
    if "recipients" in exp:
        assert pm.recipients == exp["recipients"]
    if "attachment_names" in exp:
        assert [a.filename for a in pm.attachments] == exp["attachment_names"]
    if "warnings" in exp:
        assert bool(pm.warnings) is exp["warnings"], pm.warnings
    if "pii" in exp:
        assert mask_pii(pm.text).found == exp["pii"]
    if "in_reply_to" in exp:
        assert pm.in_reply_to == exp["in_reply_to"]
    if "case_ref" in exp:
        assert exp["case_ref"] in pm.subject
    for flag in ("auto_submitted", "bulk"):
        if flag in exp:
            assert getattr(pm, flag) is exp[flag]
