"""The policy compiler on hostile input: arbitrary bytes saved as a policy file, and damaged copies of the real
policies (bytes flipped, lines dropped, reordered or repeated, re-encoded). Reading and compiling either give a
result or raise PolicyError with a Korean message; a compiled policy with an organisation and a domain becomes
an organisation workflow that loads (the importer's own checks), or a WorkflowDefinitionError naming the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsar.errors import PolicyError, WorkflowDefinitionError
from dsar.policy import PolicyExtract, compile_policy, read_policy_file
from dsar.workflow.compile import dump, organisation_document
from dsar.workflow.definitions import load_bases, load_organisation

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted([*ROOT.glob("samples/policies/*.txt"), *(ROOT / "tests" / "data" / "policies").glob("*.txt"),
                *(ROOT / "tests" / "data" / "policies").glob("*.html")])
SEED_BYTES = [p.read_bytes() for p in SEEDS]
SPLICES = ["\n", "\r", "\x00", "\ufeff", "제1조", "제10조(정보주체의 권리·의무 및 행사방법)", "개인정보 보호책임자",
           "성명 :", "이메일: privacy@", "@", "|", "| --- |", "<table><tr><td>", "</td>", "<br>", "**", "①", "가.",
           "열람", "삭제", "처리정지", "\t", " " * 40, "☞", "(이하 '회사')"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASES = load_bases()


def _compile(path: Path) -> PolicyExtract | None:
    """Read and compile; None when refused with a clear PolicyError (checked here)."""
    try:
        return compile_policy(read_policy_file(path), source=path.name)
    except PolicyError as exc:
        assert exc.code == "policy_invalid" and re.search("[가-힣]", exc.message), exc.message
        assert path.name in exc.message or exc.context.get("reason") == "no_rights_section"
        return None


def _check_workflow(extract: PolicyExtract, name: str) -> None:
    """What `dsar policy import` does after compiling, without the database: build, dump, load the workflow."""
    data = extract.to_json()
    assert isinstance(data["rights"], list) and isinstance(data["warnings"], list)
    if not data.get("org") or not data.get("slug"):
        return  # the importer refuses these with PolicyError before building anything
    text = dump(organisation_document(data, source=name))
    try:
        load_organisation(Path(f"{data['slug']}.yaml"), BASES, text=text)
    except WorkflowDefinitionError as exc:
        assert exc.problems and all(p.reason for p in exc.problems), exc.message


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("policies")


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".txt", ".html", ".md", ""]))
def test_arbitrary_bytes_are_compiled_or_refused_clearly(folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"fuzz{suffix}"
    path.write_bytes(data)
    extract = _compile(path)
    if extract is not None:
        _check_workflow(extract, path.name)


@st.composite
def damaged_policy(draw: st.DrawFn) -> bytes:
    """A real policy damaged line-wise (sections lost, swapped, repeated), then byte-wise, then re-encoded."""
    seed = draw(st.sampled_from(SEED_BYTES)).decode("utf-8", "replace")
    lines = seed.splitlines()
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["drop", "swap", "repeat", "splice", "cut"]))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        j = draw(st.integers(0, max(0, len(lines) - 1)))
        if not lines:
            break
        if op == "drop":
            del lines[i : i + draw(st.integers(1, 20))]
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "repeat":
            lines[i:i] = lines[i : i + draw(st.integers(1, 10))]
        elif op == "splice":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(SPLICES)) + lines[i][at:]
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp949", "utf-16"]))
    data = bytearray(text.encode(encoding, "replace"))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 3]))):  # a flipped byte usually breaks the decoding
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@FUZZ
@given(data=damaged_policy(), suffix=st.sampled_from([".txt", ".html"]))
def test_damaged_real_policies_are_compiled_or_refused_clearly(folder: Path, data: bytes, suffix: str) -> None:
    path = folder / f"damaged{suffix}"
    path.write_bytes(data)
    extract = _compile(path)
    if extract is not None:
        _check_workflow(extract, path.name)


FRAGMENTS = ["제1조(목적)", "제8조(정보주체의 권리·의무 및 그 행사방법)", "제9조(개인정보 보호책임자)",
             "1.", "①", "가.", "- ", "정보주체는 회사에 대해 언제든지 개인정보 열람·정정·삭제·처리정지 요구 등의",
             "권리를 행사할 수 있습니다.", "열람", "정정", "삭제", "처리정지", "동의철회", "전송요구",
             "서면, 전자우편, 모사전송(FAX)", "본인확인", "개인정보 보호책임자", "개인정보 보호 담당자", "성명 :",
             "홍길동", "직책 :", "이사", "연락처 :", "02-1234-5678", "이메일 :", "privacy@example.co.kr",
             "https://www.example.co.kr", "(이하 '회사')", "주식회사 예시", "| 보존 항목 | 보존 기간 | 근거 |",
             "| --- | --- | --- |", "| 계약 기록 | 5년 | 전자상거래법 |", "개인정보침해신고센터",
             "(privacy.kisa.or.kr / 국번없이 118)", "공고일자 : 2026년 1월 1일", "시행일자 : 2026. 1. 8.", "<p>",
             "</td><td>", "**", "\t", "  ", ":", "|", ""]


@st.composite
def policy_like_text(draw: st.DrawFn) -> str:
    """Lines assembled from the pieces real policies are made of, in any order and combination."""
    lines = draw(st.lists(st.lists(st.sampled_from(FRAGMENTS), max_size=5), max_size=60))
    return "\n".join(draw(st.sampled_from(["", " ", "\t"])).join(parts) for parts in lines)


@FUZZ
@given(policy_like_text())
def test_policy_like_text_never_breaks_the_compiler(text: str) -> None:
    try:
        extract = compile_policy(text, source="fuzz.txt")
    except PolicyError as exc:
        assert exc.context.get("reason") in {"empty", "no_rights_section"}, exc.message
        return
    _check_workflow(extract, "fuzz.txt")


def test_the_seeds_are_the_real_policies_and_compile_to_loadable_workflows(folder: Path) -> None:
    assert len(SEEDS) >= 20
    for seed in SEEDS:
        extract = _compile(seed)
        assert extract is not None and extract.org and extract.slug, seed.name
        data = extract.to_json()
        load_organisation(Path(f"{data['slug']}.yaml"), BASES, text=dump(organisation_document(data, source=seed.name)))
