"""The extractor follows the general structure of Korean policies, not the wording of the corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsar.policy import compile_policy, read_policy_file
from dsar.policy.contacts import read_marker
from dsar.policy.identity import read_org
from dsar.policy.sections import build_outline
from dsar.policy.tables import find_tables
from dsar.policy.text import split_lines
from dsar.policy.values import find_phones, find_short_phone

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [*(ROOT / "tests/data/policies").glob("*.txt"), *(ROOT / "tests/data/policies").glob("*.html")]
    + list((ROOT / "samples/policies").glob("*.txt"))
)
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


def policy(body: str) -> dict[str, object]:
    return compile_policy(body, source="synthetic.txt").to_json()


# -- phone numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("02)2163-5700", "02-2163-5700"),
        ("02-2163-5700", "02-2163-5700"),
        ("(02) 2163 5700", "02-2163-5700"),
        ("02.2163.5700", "02-2163-5700"),
        ("+82-2-2163-5700", "02-2163-5700"),
        ("+82 (0)2 2163 5700", "02-2163-5700"),
        ("070.7011.3900", "070-7011-3900"),
        ("(031) 940-5120", "031-940-5120"),
        ("010 1234 5678", "010-1234-5678"),
        ("1588-4172", "1588-4172"),
        ("1833.6972", "1833-6972"),
    ],
)
def test_phone_forms_normalise_to_hyphenated_digits(written: str, normal: str) -> None:
    assert [m.value for m in find_phones(f"전화: {written} (평일 9시~18시)")] == [normal]


@given(
    area=st.sampled_from(["02", "031", "051", "070", "010", "064"]),
    mid=st.integers(min_value=200, max_value=9999),
    last=st.integers(min_value=0, max_value=9999),
    sep=st.sampled_from(["-", ".", " ", ")"]),
)
def test_any_separator_gives_the_same_number(area: str, mid: int, last: int, sep: str) -> None:
    written = f"{area}{sep}{mid}{'-' if sep == ')' else sep}{last:04d}"
    assert [m.value for m in find_phones(written)] == [f"{area}-{mid}-{last:04d}"]


def test_fax_numbers_are_not_phone_numbers() -> None:
    text = "☎ 031-725-8801, FAX 031-725-8809, 팩스: 031-725-8810"
    assert [m.value for m in find_phones(text)] == ["031-725-8801"]


@pytest.mark.parametrize("text", ["국번없이 118", "(국번 없이) 118", "privacy.kisa.or.kr / 118", "☎ 1301"])
def test_short_service_numbers_need_a_phone_cue(text: str) -> None:
    found = find_short_phone(text)
    assert found is not None and found.value in {"118", "1301"}


@pytest.mark.parametrize(
    "text", ["(58324) 전남 나주시 진흥길 9", "세종대로 209 정부서울청사 12층", "1:1 문의"]
)
def test_addresses_do_not_yield_service_numbers(text: str) -> None:
    assert find_short_phone(text) is None


# -- sections ------------------------------------------------------------------------------------------------


_KOREAN_ORDER = "가나다라마바사아자차카타파하"
_ROMAN_ORDER = "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ"


def _renumber(line: str, kind: str, n: int) -> str:
    if kind == "jo":
        return re.sub(r"제\s*\d+\s*조", f"제{n}조", line, count=1)
    if kind in ("num", "paren"):
        return re.sub(r"^(\s*\(?)\d{1,2}(?=\s*[.．)])", rf"\g<1>{n}", line, count=1)
    if kind == "kor":
        return re.sub(
            r"^(\s*\(?)[가나다라마바사아자차카타파하](?=\s*[.)])",
            rf"\g<1>{_KOREAN_ORDER[n - 1]}",
            line,
            count=1,
        )
    if kind == "roman":
        return re.sub(r"^(\s*)[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ]", rf"\g<1>{_ROMAN_ORDER[n - 1]}", line, count=1)
    return line


def _reorder(text: str) -> str:
    """The same policy with its top-level sections in reverse order and renumbered (opening part first)."""
    outline = build_outline(split_lines(text))
    raw = text.splitlines()
    head = [raw[s.start - 1 : s.end] for s in outline.sections if s.heading is None]
    body = [s for s in outline.sections if s.heading is not None][::-1]
    moved = []
    for n, section in enumerate(body, start=1):
        block = raw[section.start - 1 : section.end]
        assert section.heading is not None
        moved.append([_renumber(block[0], section.heading.kind, n), *block[1:]])
    return "\n".join(line for block in head + moved for line in block) + "\n"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.stem)
def test_sections_in_any_order_give_the_same_answer(path: Path) -> None:
    text = read_policy_file(path)
    original = compile_policy(text, source=str(path)).to_json()
    shuffled = compile_policy(_reorder(text), source=str(path)).to_json()
    for field in FIELDS:
        assert shuffled[field] == original[field], field


def test_table_of_contents_and_numbered_lists_are_not_sections() -> None:
    text = (
        "목차\n1. 수집 항목\n2. 보유 기간\n3. 권리 행사\n\n"
        "1. 수집 항목\n이름, 이메일\n\n"
        "2. 보유 기간\n쿠키 설정 방법\n1. [도구] 메뉴를 누릅니다.\n2. [옵션]을 고릅니다.\n\n"
        "3. 권리 행사\n이용자는 열람, 정정을 요구할 수 있습니다.\n"
    )
    outline = build_outline(split_lines(text))
    titles = [s.heading.title for s in outline.sections if s.heading is not None]
    assert titles == ["수집 항목", "보유 기간", "권리 행사"]
    assert [s.start for s in outline.sections if s.heading is not None] == [6, 9, 14]


def test_one_cell_per_line_table_with_a_cell_spanning_two_lines() -> None:
    text = "보존 항목 |\n보존 기간 |\n접속 기록\n(IP, 시각) |\n3개월 |\n결제 기록 |\n5년 |\n"
    (table,) = find_tables(split_lines(text), set())
    assert [c.text for c in table.header or []] == ["보존 항목", "보존 기간"]
    assert [[c.text for c in row] for row in table.rows] == [
        ["접속 기록 (IP, 시각)", "3개월"],
        ["결제 기록", "5년"],
    ]
    assert table.rows[0][0].lines == (3, 4)


def test_cell_spanning_three_lines_stays_one_cell() -> None:
    text = "보존 항목 |\n보존 기간 |\n장애인 교육 자료\n(성명, 부서,\n직급) |\n3년 |\n"
    (table,) = find_tables(split_lines(text), set())
    assert [[c.text for c in row] for row in table.rows] == [["장애인 교육 자료 (성명, 부서, 직급)", "3년"]]


# -- contacts ------------------------------------------------------------------------------------------------

RIGHTS = "5. 이용자의 권리\n이용자는 개인정보 열람, 정정, 삭제를 이메일로 요구할 수 있습니다.\n\n"


@pytest.mark.parametrize(
    "block",
    [
        "개인정보 보호책임자\n이름: 홍길동\n직위: 보안팀 팀장\n전화: 02-555-0100\n이메일: cpo@hanul-soft.kr",
        "개인정보 보호책임자\n성명 : 홍길동\n직책 : 보안팀 팀장\n연락처 : 02)555-0100 / CPO@hanul-soft.kr",
        "▶ 개인정보 보호책임자\n - 성명 - 홍길동\n - 소속 - 보안팀\n - 직급 - 팀장\n"
        " - 전화번호 - (02) 555 0100\n"
        " - 메일 - cpo@hanul-soft.kr",
        "[개인정보 보호책임자]\n성명  홍길동 (보안팀 팀장)\n전화  02.555.0100\n이메일  cpo@hanul-soft.kr",
        "개인정보 보호책임자 : 홍길동 팀장 (보안팀, ☎ 02-555-0100, cpo@hanul-soft.kr)",
        "구분 | 성명 | 부서 | 직위 | 연락처 |\n"
        "개인정보 보호책임자 | 홍길동 | 보안팀 | 팀장 | 02-555-0100, cpo@hanul-soft.kr |",
    ],
    ids=["colon", "spaced-colon-shared-line", "dash", "no-colon", "one-line", "table"],
)
def test_contact_labels_with_or_without_colons(block: str) -> None:
    got = policy(f"한울소프트 개인정보 처리방침\n\n{RIGHTS}6. 개인정보 보호책임자 및 담당자\n{block}\n")
    assert got["contacts"] == [
        {
            "role": "책임자",
            "name": "홍길동",
            "title": "팀장",
            "department": "보안팀",
            "phone": "02-555-0100",
            "email": "cpo@hanul-soft.kr",
        }
    ]


def test_table_with_roles_as_columns() -> None:
    got = policy(
        f"처리방침\n\n{RIGHTS}6. 개인정보 보호책임자\n"
        "구분 | 개인정보 보호책임자 | 개인정보 보호담당자 |\n"
        "성명 | 홍길동 | 김철수 |\n소속 | 보안팀 | 고객지원팀 |\n직위 | 팀장 | 대리 |\n"
        "연락처 | 02-555-0100 | 02-555-0111, help@hanul-soft.kr |\n"
    )
    assert got["contacts"] == [
        {
            "role": "책임자",
            "name": "홍길동",
            "title": "팀장",
            "department": "보안팀",
            "phone": "02-555-0100",
            "email": None,
        },
        {
            "role": "담당자",
            "name": "김철수",
            "title": "대리",
            "department": "고객지원팀",
            "phone": "02-555-0111",
            "email": "help@hanul-soft.kr",
        },
    ]


def test_department_without_a_person_and_stray_lines_inside_a_block() -> None:
    got = policy(
        f"처리방침\n\n{RIGHTS}6. 개인정보 보호책임자\n개인정보 보호책임자: 대표이사 김민서\n\n"
        "개인정보 보호 담당부서\n부서명: 고객지원센터\n\nhttps://forms.example.com/privacy\n\n"
        "전화: 1600-1234\nE-mail: help@minseo-shop.kr\n"
    )
    assert got["contacts"] == [
        {
            "role": "책임자",
            "name": "김민서",
            "title": "대표이사",
            "department": None,
            "phone": None,
            "email": None,
        },
        {
            "role": "담당자",
            "name": None,
            "title": None,
            "department": "고객지원센터",
            "phone": "1600-1234",
            "email": "help@minseo-shop.kr",
        },
    ]


@pytest.mark.parametrize(
    "line",
    [
        "개인정보 보호책임자에게 이메일로 연락하시면 지체 없이 조치하겠습니다.",
        "개인정보보호책임자 및 담당자의 연락처",
        "개인정보 보호책임자와 담당부서",
        "1. 파기 절차: 개인정보 보호책임자의 승인을 받아 파기합니다.",
    ],
)
def test_sentences_and_combined_headings_are_not_role_markers(line: str) -> None:
    assert read_marker(line) is None


def test_markers_read_role_and_inline_value() -> None:
    marker = read_marker("- 개인정보 관리담당자 : 이상철 팀장")
    assert marker is not None and (marker.role, marker.rest) == ("담당자", "이상철 팀장")
    marker = read_marker("Privacy Officer / 개인정보 보호책임자")
    assert marker is not None and (marker.role, marker.rest) == ("책임자", "")


# -- organisation, dates, bodies ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "org"),
    [
        ("(주)알파코는 (이하 '회사'는) 고객님의 개인정보를 중요시합니다.", "(주)알파코"),
        ('주식회사 다은(이하 "회사")은 개인정보를 보호합니다.', "주식회사 다은"),
        ("「서울특별시 한강구」(이하 '구'라 한다)는 개인정보를 처리합니다.", "서울특별시 한강구"),
        ('Findrail Inc.가 운영하는 주식회사 파인드레일(Findrail Inc., 이하 "회사")은', "주식회사 파인드레일"),
    ],
)
def test_org_is_the_name_before_the_iha_clause(line: str, org: str) -> None:
    found = read_org(split_lines(line))
    assert found is not None and found.value == org


def test_version_ranges_are_not_policy_dates() -> None:
    got = policy(
        f"처리방침\n\n{RIGHTS}7. 부칙\n이전 처리방침 (2021. 1. 1. ~ 2023. 6. 30. 적용)\n"
        "이 방침은 2023년 7월 1일부터 시행합니다.\n최종 변경일 : 2023-06-20\n"
    )
    assert got["dates"] == {"announced": None, "effective": "2023-07-01", "last_changed": "2023-06-20"}


def test_complaint_bodies_tolerate_typos_and_skip_address_lines() -> None:
    got = policy(
        f"처리방침\n\n{RIGHTS}8. 권익침해 구제방법\n"
        "▶ 개인분쟁조정위원회\n - 주소 : (03171) 서울 종로구 세종대로 209\n - 전화 : 1833-6972\n"
        " - 홈페이지 : www.kopico.go.kr\n"
        "▶ 개인정보 침해 신고센터 (국번없이) 118 / privacy.kisa.or.kr\n"
        "▶ 대검찰청 사이버수사과 (www.spo.go.kr / 1301)\n"
    )
    assert got["complaint_bodies"] == [
        {"name": "개인정보분쟁조정위원회", "url": "kopico.go.kr", "phone": "1833-6972"},
        {"name": "개인정보침해신고센터", "url": "privacy.kisa.or.kr", "phone": "118"},
        {"name": "대검찰청 사이버수사과", "url": "spo.go.kr", "phone": "1301"},
    ]


def test_rights_outside_the_rights_section_do_not_count() -> None:
    got = policy(
        "처리방침\n\n1. 개인정보의 파기\n전자 파일은 복구할 수 없도록 삭제합니다.\n\n"
        "2. 이용자의 권리\n이용자는 개인정보의 열람을 요구할 수 있습니다.\n"
    )
    assert got["rights"] == ["열람"]


def test_policy_without_headings_falls_back_to_request_sentences() -> None:
    got = compile_policy(
        "우리 동호회는 회원 명부만 관리합니다. "
        "회원은 언제든지 자기 정보의 열람과 삭제를 요청할 수 있습니다.\n",
        source="club.txt",
    )
    assert got.to_json()["rights"] == ["열람", "삭제"]
    assert any("추정" in w for w in got.warnings)
