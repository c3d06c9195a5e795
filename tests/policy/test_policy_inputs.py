"""Reading policy files: encodings and HTML are accepted; unusable files fail naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.errors import PolicyError
from dsar.policy import compile_policy, read_policy_file

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "samples" / "policies" / "alpaco_privacy_policy.txt"
CLINIC = ROOT / "tests" / "data" / "policies" / "saebom_clinic.txt"  # stored as CP949

NO_RIGHTS_POLICY = """주식회사 하늘정원 개인정보 처리방침
주식회사 하늘정원(이하 "회사")은 이용자의 개인정보를 소중히 다룹니다.
1. 수집하는 개인정보
이름, 휴대전화번호, 이메일
2. 개인정보의 보유 기간
회원 탈퇴 시까지 보유합니다.
3. 개인정보 보호책임자
성명: 김하늘 / 이메일: privacy@haneul.example
"""


def assert_names_file(err: pytest.ExceptionInfo[PolicyError], path: Path) -> None:
    assert str(path) in err.value.message
    assert err.value.code == "policy_invalid"
    assert err.value.context["path"] == str(path)


def test_missing_file_raises_policy_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.txt"
    with pytest.raises(PolicyError) as err:
        read_policy_file(path)
    assert_names_file(err, path)
    assert "경로" in err.value.message and "Check the path" in err.value.message


def test_directory_is_not_a_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as err:
        read_policy_file(tmp_path)
    assert_names_file(err, tmp_path)


@pytest.mark.parametrize("content", [b"", b"   \n\n\t \n"], ids=["zero-bytes", "whitespace"])
def test_empty_file_raises_policy_error_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(PolicyError) as err:
        read_policy_file(path)
    assert_names_file(err, path)
    assert "비어 있습니다" in err.value.message and "empty" in err.value.message


def test_binary_file_raises_policy_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.pdf"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x00<< /Type /Catalog >>\x00" * 20)
    with pytest.raises(PolicyError) as err:
        read_policy_file(path)
    assert_names_file(err, path)
    assert err.value.context["reason"] == "binary"
    assert "PDF" in err.value.message


def test_undecodable_file_raises_policy_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("개인정보 열람".encode() + b"\x80\x81\xfe\xff" * 4)
    with pytest.raises(PolicyError) as err:
        read_policy_file(path)
    assert_names_file(err, path)
    assert err.value.context["reason"] == "encoding"


def test_five_megabyte_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(SEED.read_bytes() * (5_000_000 // SEED.stat().st_size + 1))
    assert path.stat().st_size >= 5_000_000
    with pytest.raises(PolicyError) as err:
        read_policy_file(path)
    assert_names_file(err, path)
    assert err.value.context["reason"] == "too_large"
    assert "max_bytes" in err.value.message


def test_size_limit_is_a_parameter(tmp_path: Path) -> None:
    path = tmp_path / "seed.txt"
    path.write_bytes(SEED.read_bytes())
    with pytest.raises(PolicyError):
        read_policy_file(path, max_bytes=1_000)
    assert "알파코" in read_policy_file(path, max_bytes=100_000)


def test_policy_without_rights_section_raises_policy_error_naming_the_source(tmp_path: Path) -> None:
    path = tmp_path / "no_rights.txt"
    path.write_text(NO_RIGHTS_POLICY, encoding="utf-8")
    text = read_policy_file(path)
    with pytest.raises(PolicyError) as err:
        compile_policy(text, source=str(path))
    assert str(path) in err.value.message
    assert err.value.context["reason"] == "no_rights_section"


def test_blank_text_is_refused_by_compile_policy() -> None:
    with pytest.raises(PolicyError) as err:
        compile_policy("\n \n", source="blank.txt")
    assert "blank.txt" in err.value.message


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr", "utf-16"])
def test_korean_encodings_decode_to_the_same_text(tmp_path: Path, encoding: str) -> None:
    original = CLINIC.read_bytes().decode("cp949")
    path = tmp_path / f"policy-{encoding}.txt"
    path.write_bytes(original.encode(encoding))
    assert read_policy_file(path) == original


def test_crlf_line_endings_keep_line_numbers(tmp_path: Path) -> None:
    original = SEED.read_text(encoding="utf-8")
    path = tmp_path / "crlf.txt"
    path.write_bytes(original.replace("\n", "\r\n").encode("utf-8"))
    text = read_policy_file(path)
    assert text.splitlines() == original.splitlines()


def test_html_is_stripped_to_lines_with_table_rows_as_cells(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>제목</title><style>p{color:red}</style></head><body>"
        "<h2>2. 보유기간</h2><p>아래 정보를 보존합니다.</p>"
        "<table><tr><th>보존 항목</th><th>보존 기간</th></tr>"
        "<tr><td>접속 기록</td><td>3개월</td></tr></table>"
        "<ul><li>열람&amp;정정</li></ul><script>var x = '<p>no</p>';</script></body></html>",
        encoding="utf-8",
    )
    lines = read_policy_file(path).splitlines()
    assert "보존 항목 | 보존 기간 |" in lines
    assert "접속 기록 | 3개월 |" in lines
    assert "- 열람&정정" in lines
    assert not any("제목" in ln or "color" in ln or "var x" in ln for ln in lines)


def test_html_without_suffix_is_recognised_by_its_markup(tmp_path: Path) -> None:
    path = tmp_path / "saved_page.txt"
    path.write_text("<!DOCTYPE html><html><body><p>개인정보 <b>열람</b></p></body></html>", encoding="utf-8")
    assert read_policy_file(path).strip() == "개인정보 열람"
