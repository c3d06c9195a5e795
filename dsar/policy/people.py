"""Reading a person out of a short value: `이상철 팀장`, `원장 박정우 (☎ 031-725-8800)`, `원무과`.

Korean policies put name, job title and department in one cell or after one label, in any order. Titles are
recognised by their endings (…장, 이사, 주무관, CISO), departments by theirs (…팀, …본부, …과), and names as
two to four syllables that start with a Korean surname. Which reading wins for an ambiguous word depends on
what the label or marker promised (a 담당부서 line prefers a department, a 성명 line a name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dsar.policy.values import find_emails, find_hosts, find_phones

_TITLES = frozenset(
    "대표 대표이사 이사 상무 전무 부사장 사장 회장 주무관 사무관 서기관 매니저 책임 선임 수석 대리 "
    "주임 사원 연구원 선임연구원 책임연구원 수석연구원 위원 간사 팀원 CISO CPO CTO CEO COO CFO DPO "
    "프로 파트너 변호사 차장 과장 부장".split()
)
_TITLE_END = ("장", "이사", "상무", "전무", "주무관", "사무관", "매니저", "연구원", "위원", "관리자")
_DEPT_END = tuple(
    "팀 본부 센터 실 과 국 처 부 그룹 파트 사무국 연구소 위원회 지원단 부서 Team Office Division".split()
)
_SURNAMES_2 = ("남궁", "황보", "제갈", "사공", "선우", "독고", "서문", "동방", "망절", "어금")
_SURNAMES_1 = set(
    "김이박최정강조윤장임한오서신권황안송류유전홍고문양손배백허남심노하곽성차주우구민진나지엄채원천방공현함변염여추도소석"
    "선설마길연위표명기반왕금옥육인맹제모탁국어은편용예경봉사부가복태목형피두감음빈동온호범좌"
)
_CUES = re.compile(
    r"☎|☏|대표\s*(?:전화|번호)|전화\s*번호|전화|연락처|휴대폰|이메일|e-?mail|전자\s*우편|메일|팩스|fax|tel\.?|phone|내선",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"[\s/,()（）·|:：\[\]]+")


@dataclass(slots=True)
class Person:
    """What one value told us; empty fields were not there."""

    name: str | None = None
    title: str | None = None
    department: str | None = None
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


def is_title(token: str) -> bool:
    if token in _TITLES or token.upper() in _TITLES:
        return True
    return len(token) >= 2 and re.fullmatch(r"[가-힣]+", token) is not None and token.endswith(_TITLE_END)


def is_department(token: str) -> bool:
    return len(token) >= 2 and not is_title(token) and token.endswith(_DEPT_END)


_NOT_NAMES = frozenset(
    "구분 성명 이름 소속 부서 부서명 직위 직책 직급 연락처 전화 이메일 주소 담당 담당자 책임자 "
    "문의 고객 회사 대표 본인 정보 개인 기관 팀명 비고 없음 해당".split()
)


def is_name(token: str) -> bool:
    if not re.fullmatch(r"[가-힣]{2,4}", token) or is_title(token) or token in _NOT_NAMES:
        return False
    return token[:2] in _SURNAMES_2 or token[0] in _SURNAMES_1


def read_person(value: str, *, prefer: str = "name") -> Person:
    """Split a free value into name / title / department / phones / e-mails."""
    person = Person(
        phones=[p.value for p in find_phones(value)],
        emails=[e.value for e in find_emails(value)],
    )
    spans = [(m.start, m.end) for m in find_phones(value, include_fax=True)]
    spans += [(m.start, m.end) for m in find_emails(value)] + [(m.start, m.end) for m in find_hosts(value)]
    rest = value
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    rest = _CUES.sub(" ", rest)
    tokens = [t for t in _SPLIT.split(rest) if t and t not in ("-", "겸", "및", "또는")]
    depts: list[str] = []
    last_dept = -2
    for idx, tok in enumerate(tokens):
        if is_title(tok):
            person.title = person.title or tok
        elif is_name(tok) and person.name is None and (prefer == "name" or not is_department(tok)):
            person.name = tok
        elif is_department(tok):
            if depts and last_dept == idx - 1:
                depts[-1] = f"{depts[-1]} {tok}"
            else:
                depts.append(tok)
            last_dept = idx
    if depts:
        person.department = depts[0]
    return person


def split_title(value: str) -> tuple[str | None, str | None]:
    """`경영지원본부 본부장` -> (department, title); a single word is a title as written."""
    tokens = value.split()
    if len(tokens) >= 2 and is_title(tokens[-1]):
        return " ".join(tokens[:-1]), tokens[-1]
    return None, value.strip() or None


def split_department(value: str) -> tuple[str | None, str | None]:
    """`개인정보보호팀 팀장` -> (department, title); otherwise the whole value is the department."""
    tokens = value.split()
    if len(tokens) >= 2 and is_title(tokens[-1]):
        return " ".join(tokens[:-1]), tokens[-1]
    return value.strip() or None, None
