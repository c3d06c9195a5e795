"""Every policy in the corpus compiles to exactly its expected answer, field by field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsar.policy import PolicyExtract, compile_policy, read_policy_file

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "policies"
SEEDS = ROOT / "samples" / "policies"
FIELDS = (
    "org",
    "slug",
    "rights",
    "channels",
    "verification",
    "contacts",
    "retention",
    "complaint_bodies",
    "dates",
)


def policy_source(expected: Path) -> Path:
    """The policy text beside its expected answer; the two seed policies live in samples/policies."""
    stem = expected.name.removesuffix(".expected.json")
    for folder in (CORPUS, SEEDS):
        for suffix in (".txt", ".html"):
            candidate = folder / f"{stem}{suffix}"
            if candidate.exists():
                return candidate
    raise FileNotFoundError(f"no policy text for {expected.name}")


EXPECTED = sorted(CORPUS.glob("*.expected.json"))


def compiled(expected: Path) -> dict[str, Any]:
    source = policy_source(expected)
    return compile_policy(read_policy_file(source), source=str(source)).to_json()


def test_corpus_holds_the_seeds_and_at_least_twelve_more_policies() -> None:
    names = {p.name.removesuffix(".expected.json") for p in EXPECTED}
    assert {"rsupport_privacy_policy", "alpaco_privacy_policy"} <= names
    assert len(names) >= 14


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.name.removesuffix(".expected.json"))
@pytest.mark.parametrize("field", FIELDS)
def test_policy_field_matches_expected_answer(expected: Path, field: str) -> None:
    want = json.loads(expected.read_text(encoding="utf-8"))
    got = compiled(expected)
    assert got[field] == want[field]


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda p: p.name.removesuffix(".expected.json"))
def test_to_json_has_exactly_the_contract_keys(expected: Path) -> None:
    got = compiled(expected)
    assert set(got) == {*FIELDS, "warnings", "evidence"}
    assert set(got["dates"]) == {"announced", "effective", "last_changed"}
    for contact in got["contacts"]:
        assert set(contact) == {"role", "name", "title", "department", "phone", "email"}
    assert all(isinstance(w, str) for w in got["warnings"])


def test_compile_policy_returns_a_policy_extract() -> None:
    source = SEEDS / "rsupport_privacy_policy.txt"
    assert isinstance(compile_policy(read_policy_file(source), source=str(source)), PolicyExtract)


def test_seed_answers_match_the_brief() -> None:
    """The two real policies, checked against the answers stated independently of the expected files."""
    rs = compiled(CORPUS / "rsupport_privacy_policy.expected.json")
    assert rs["org"] == "알서포트주식회사" and rs["slug"] == "rsupport"
    assert rs["rights"] == ["열람", "정정", "삭제", "동의철회"]
    assert rs["channels"] == ["email", "phone", "written", "board"]
    assert rs["verification"] == ["본인확인", "법정대리인"]
    assert rs["contacts"][0] == {
        "role": "책임자",
        "name": "송의",
        "title": "본부장",
        "department": "경영지원본부",
        "phone": "070-7011-3900",
        "email": "sec_tech@rsupport.com",
    }
    assert rs["dates"] == {"announced": "2017-10-17", "effective": "2017-10-24", "last_changed": None}

    al = compiled(CORPUS / "alpaco_privacy_policy.expected.json")
    assert al["org"] == "(주)알파코" and al["slug"] == "alpaco"
    assert al["rights"] == ["열람", "정정", "동의철회"]
    assert al["channels"] == ["email", "phone", "web"]
    assert len(al["retention"]) == 5
    assert [b["name"] for b in al["complaint_bodies"]] == [
        "개인정보분쟁조정위원회",
        "개인정보침해신고센터",
        "대검찰청 사이버수사과",
        "경찰청 사이버수사국",
    ]


def test_missing_rights_produce_a_warning_that_the_statutory_right_still_applies() -> None:
    al = compiled(CORPUS / "alpaco_privacy_policy.expected.json")
    assert any("삭제" in w and "처리정지" in w and "법에 따른 권리" in w for w in al["warnings"])


def test_missing_chief_email_is_reported_for_the_operator_to_fill_in() -> None:
    clinic = compiled(CORPUS / "saebom_clinic.expected.json")
    assert any("보호책임자의 이메일" in w for w in clinic["warnings"])
