"""The 개인정보 보호책임자 and the 담당자 / 담당부서, with their phone and e-mail.

A contact starts at a role marker (a line that begins with 개인정보 보호책임자, 관리담당자, 담당부서, Privacy
Officer ...) and collects the label lines after it (성명:, 직위 -, 전화번호, E-mail ...) until prose, another
marker or a heading. Tables whose rows start with a role (구분 | 성명 | 부서 | 연락처) are read by column.
Stray lines in between (a bare URL, blank lines) do not end a contact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsar.policy.model import Contact, Found
from dsar.policy.people import Person, read_person, split_department, split_title
from dsar.policy.tables import Table, column_roles
from dsar.policy.text import Line, strip_marks
from dsar.policy.values import URL_RE, find_emails, find_phones

_ROLE_KO = (
    r"(?:개인\s*정보\s*)?(?:(?:보호|관리|처리|고충\s*처리)\s*)*(?:책\s*임\s*자|담\s*당\s*자|담당\s*부서|담당\s*팀"
    r"|고충\s*처리\s*부서)"
)
_ROLE = re.compile(
    rf"^(?P<role>{_ROLE_KO}|(?:chief\s+)?privacy\s+officer|data\s+protection\s+officer"
    r"|privacy\s+(?:team|manager|contact)|CPO\b|DPO\b)",
    re.IGNORECASE,
)
# `회사의 개인정보 보호책임자는 정보보안팀 김도현 팀장(02-…, …)입니다.`
_ROLE_SENTENCE = re.compile(
    rf"(?:^|(?<=[\s의]))(?P<role>{_ROLE_KO})(?:는|은)\s+(?P<value>.+?)"
    r"(?:입니다|이며|이고|이다|(?:으)?로\s*(?:지정|연락)|\s*$)"
)
_PARTICLE = re.compile(
    r"^(?:의|에게|께|를|을|은|는|이|가|와|과|로|으로|에|도|만|란|님)(?![가-힣])|^(?:의|에게|께서)"
)
_JOINER = re.compile(r"^\s*(?P<word>및|와|과|&|and)?(?:\s*[,·/]\s*)?\s*", re.IGNORECASE)
_LABELS: list[tuple[str, str]] = [
    ("dept_title", r"(?:소속|부서)\s*(?:및|/|·)\s*직(?:위|책|급)"),
    ("name", r"성\s*명|이\s*름|담당자\s*명|책임자\s*명|name"),
    ("title", r"직\s*위|직\s*책|직\s*급|직\s*함|title|position"),
    ("department", r"부\s*서\s*명|부\s*서|소\s*속|담당\s*부서|팀\s*명|department|dept\.?|team"),
    ("phone", r"전화\s*번호|전\s*화|연\s*락\s*처|tel\.?|phone|대표\s*번호|휴\s*대\s*폰|내선|☎"),
    ("email", r"이\s*메\s*일|e-?mail|전자\s*우편|메\s*일"),
    ("fax", r"팩\s*스|fax"),
    ("skip", r"주\s*소|address|소재지|홈페이지|url|웹\s*사이트"),
]
_LABEL_START = re.compile(
    r"\s*[/|,]\s*(?=(?:" + "|".join(pat for _, pat in _LABELS) + r")(?:\s*[(（][^)）]*[)）])?\s*[:：])",
    re.IGNORECASE,
)
_LABEL_RE = re.compile(
    r"^(?P<label>" + "|".join(f"(?P<{key}>{pat})" for key, pat in _LABELS) + r")(?![A-Za-z가-힣])"
    r"(?:\s*[(（][^)）]*[)）])?\s*(?P<sep>[:：]|[-–]\s|\s)\s*(?P<value>.*)$",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?:니다|습니다|십시오|바랍니다)\s*[.。]?\s*$|다\.\s*$")
_TABLE_ROLES = {
    "dept_title": re.compile(r"(?:소속|부서)\s*(?:및|/|·)\s*직(?:위|책|급)"),
    "name": re.compile(r"성명|이름|name", re.I),
    "title": re.compile(r"직위|직책|직급|title|position", re.I),
    "department": re.compile(r"부서|소속|팀|department", re.I),
    "email": re.compile(r"이메일|메일|e-?mail", re.I),
    "phone": re.compile(r"전화|연락처|phone|tel", re.I),
}


@dataclass(frozen=True, slots=True)
class Marker:
    role: str  # 책임자 | 담당자
    dept: bool  # marker names a department (담당부서), so a bare value is a department
    bare: bool  # just 담당자 / 책임자, no 개인정보 prefix
    rest: str


def _clean(text: str) -> str:
    text = strip_marks(text)
    return text.strip("[]【】<>〈〉《》「」 ").strip()


def read_marker(text: str) -> Marker | None:
    """A role marker at the start of a line, or None (sentences that mention a role are not markers)."""
    text = _clean(text)
    if text.startswith(("(", "（")) and text.endswith((")", "）")):
        text = text[1:-1].strip()
    m = _ROLE.match(text)
    if not m:
        return None
    word = m.group("role")
    role = "책임자" if re.search(r"책\s*임\s*자|officer|CPO|DPO", word, re.I) else "담당자"
    rest = text[m.end() :]
    if _PARTICLE.match(rest):
        return None
    rest = re.sub(r"^\s*[(（][^)）]*[)）]", "", rest)  # 담당자(이천물류센터)
    joined = _JOINER.match(rest)
    if joined and joined.group(0).strip():
        tail = rest[joined.end() :]
        other = _ROLE.match(tail.strip())
        if other is not None:  # `책임자 및 담당자`: a heading over both, unless it repeats the same role
            same = read_marker(tail)
            if same is None or same.role != role:
                return None
            rest = same.rest
        elif joined["word"] or re.search(r"책\s*임\s*자|담\s*당\s*자|담당\s*부서", tail):
            return None  # `책임자 및 열람청구 접수 부서`: a heading over several things
        else:
            rest = tail
    rest = rest.strip().lstrip(":：-–|").strip()
    if _SENTENCE.search(text) and not _LABEL_RE.match(rest):
        return None
    dept = bool(re.search(r"부서|팀|team", word, re.I))
    bare = bool(re.fullmatch(r"\s*(?:담\s*당\s*자|책\s*임\s*자|담당\s*부서)\s*", word))
    return Marker(role, dept, bare, rest)


class _Reader:
    """State machine over contact-section lines."""

    def __init__(self) -> None:
        self.contacts: list[Contact] = []
        self.current: Contact | None = None
        self.dept_marker = False
        self.skips = 0

    def close(self) -> None:
        if self.current is not None and not self.current.is_empty():
            self.contacts.append(self.current)
        self.current = None

    def open(self, marker: Marker, ln: Line) -> None:
        cur = self.current
        if (
            cur is not None
            and marker.role == "담당자"
            and marker.bare
            and cur.role == "담당자"
            and cur.name is None
            and self.dept_marker
            and not marker.dept
        ):
            self.apply_person(
                read_person(marker.rest, prefer="name"), ln
            )  # 담당부서 block, then 담당자: 홍길동
            return
        if cur is not None and marker.bare and marker.dept and cur.department is None and not cur.is_empty():
            self.set("department", marker.rest or None, ln)  # plain 담당부서: label inside a block
            return
        self.close()
        self.current = Contact(role=marker.role, role_lines=(ln.no,))
        self.dept_marker = marker.dept
        self.skips = 0
        if marker.rest:
            if not self.label(marker.rest, ln):
                self.apply_person(
                    read_person(marker.rest, prefer="department" if marker.dept else "name"), ln
                )

    def set(self, fld: str, value: str | None, ln: Line) -> None:
        if value and self.current is not None and getattr(self.current, fld) is None:
            setattr(self.current, fld, Found(value, (ln.no,)))

    def apply_person(self, person: Person, ln: Line) -> None:
        self.set("name", person.name, ln)
        self.set("title", person.title, ln)
        self.set("department", person.department, ln)
        self.set("phone", person.phones[0] if person.phones else None, ln)
        self.set("email", person.emails[0] if person.emails else None, ln)

    def label(self, text: str, ln: Line) -> bool:
        """Apply `label: value` (several per line, split at ` / `) to the open contact; False if not one."""
        parts = _LABEL_START.split(text)
        if len(parts) > 1 and _LABEL_RE.match(parts[0]):
            return all([self._one_label(part, ln) for part in parts])
        return self._one_label(text, ln)

    def _one_label(self, text: str, ln: Line) -> bool:
        m = _LABEL_RE.match(text)
        if not m:
            return False
        key = next(k for k, _ in _LABELS if m.group(k))
        value = m.group("value").strip()
        loose = m.group("sep").strip() == ""  # `성명 홍길동`: accept only values that fit the label
        if key == "skip" or key == "fax":
            return True
        if key == "name":
            person = read_person(value, prefer="name")
            if loose and (person.name is None or len(value) > 25):
                return False
            self.apply_person(person, ln)
        elif key == "title":
            if loose and len(value) > 25:
                return False
            dept, title = split_title(value)
            self.set("department", dept, ln)
            self.set("title", title, ln)
        elif key == "department":
            if loose and len(value) > 25:
                return False
            dept, title = split_department(value)
            self.set("department", dept, ln)
            self.set("title", title, ln)
        elif key == "dept_title":
            self.apply_person(read_person(value, prefer="department"), ln)
        else:  # phone / email
            person = read_person(value)
            if loose and not (person.phones or person.emails):
                return False
            self.set("phone", person.phones[0] if person.phones else None, ln)
            self.set("email", person.emails[0] if person.emails else None, ln)
        return True

    def line(self, ln: Line, *, is_heading: bool, stop: bool) -> None:
        marker = read_marker(ln.text)
        if marker is not None:
            self.open(marker, ln)
            return
        if is_heading or stop:
            self.close()
            return
        if self.current is None:
            self.sentence(ln)
            return
        text = _clean(ln.text)
        if not text or URL_RE.fullmatch(text):
            self.skips += 1
            if self.skips > 5:
                self.close()
            return
        self.skips = 0
        if "|" in text:
            cells = [c.strip() for c in text.split("|") if c.strip()]
            text = ": ".join(cells) if len(cells) == 2 else text
        if self.label(text, ln):
            return
        short = len(text) <= 80 and not _SENTENCE.search(text)
        if short and (find_phones(text) or find_emails(text)):
            self.apply_person(read_person(text, prefer="department" if self.dept_marker else "name"), ln)
        elif short and len(text) <= 25 and self.current.name is None:
            person = read_person(text, prefer="name")
            if person.name or person.title:
                self.apply_person(person, ln)
            else:
                self.close()
        else:
            self.close()
            self.sentence(ln)

    def sentence(self, ln: Line) -> None:
        """A contact written as a sentence: `…보호책임자는 김도현 팀장(02-…)입니다`."""
        for m in _ROLE_SENTENCE.finditer(ln.text):
            role = "책임자" if re.search(r"책\s*임\s*자", m["role"]) else "담당자"
            dept = bool(re.search(r"부서|팀", m["role"]))
            person = read_person(m["value"], prefer="department" if dept else "name")
            if person.name or person.phones or person.emails:
                self.current = Contact(role=role, role_lines=(ln.no,))
                self.apply_person(person, ln)
                self.close()


def read_contacts(
    lines: list[Line], *, headings: set[int], stops: set[int], tables: list[Table]
) -> list[Contact]:
    """Contacts from role-marked blocks and role-led table rows: 책임자 first, then 담당자, each in order."""
    table_lines = {no for t in tables if t.header is not None for no in t.line_nos}
    reader = _Reader()
    previous: int | None = None
    for ln in lines:
        if previous is not None and ln.no != previous + 1:
            reader.close()
        previous = ln.no
        if ln.no in table_lines:
            reader.close()
            continue
        reader.line(ln, is_heading=ln.no in headings, stop=ln.no in stops)
    reader.close()
    found = [(c.role_lines[0], c) for c in reader.contacts]
    for table in tables:
        found.extend(_table_contacts(table))
    found.sort(key=lambda pair: pair[0])
    ordered = [c for _, c in found if c.role == "책임자"] + [c for _, c in found if c.role == "담당자"]
    return _dedupe(ordered)


def _table_contacts(table: Table) -> list[tuple[int, Contact]]:
    if table.header is None:
        return []
    if len(table.header) > 1 and all(read_marker(c.text) for c in table.header[1:]):
        return _transposed_contacts(table)
    roles = column_roles(table.header, _TABLE_ROLES)
    out = []
    for row in table.rows:
        if not row:
            continue
        marker = read_marker(row[0].text)
        if marker is None:
            continue
        contact = Contact(role=marker.role, role_lines=row[0].lines)
        for idx, cell in enumerate(row[1:], start=1):
            role = roles.get(idx)
            if role is None or cell.empty:
                continue
            _apply_cell(contact, role, cell.text, cell.lines)
        if not contact.is_empty():
            out.append((row[0].lines[0], contact))
    return out


def _transposed_contacts(table: Table) -> list[tuple[int, Contact]]:
    """`구분 | 개인정보 보호책임자 | 개인정보 보호담당자` with one row per field (성명, 소속, 연락처 …)."""
    assert table.header is not None
    columns = []
    for cell in table.header[1:]:
        marker = read_marker(cell.text)
        assert marker is not None
        columns.append(Contact(role=marker.role, role_lines=cell.lines))
    for row in table.rows:
        if not row:
            continue
        role = next((r for r, pattern in _TABLE_ROLES.items() if pattern.search(row[0].text)), None)
        if role is None:
            continue
        for contact, cell in zip(columns, row[1:], strict=False):
            if not cell.empty:
                _apply_cell(contact, role, cell.text, cell.lines)
    return [(c.role_lines[0], c) for c in columns if not c.is_empty()]


def _apply_cell(contact: Contact, role: str, text: str, lines: tuple[int, ...]) -> None:
    def put(fld: str, value: str | None) -> None:
        if value and getattr(contact, fld) is None:
            setattr(contact, fld, Found(value, lines))

    if role == "title":
        dept, title = split_title(text)
        put("department", dept)
        put("title", title)
        return
    if role == "department":
        dept, title = split_department(text)
        put("department", dept)
        put("title", title)
        return
    person = read_person(text, prefer="department" if role == "dept_title" else "name")
    if role in ("name", "dept_title"):
        put("name", person.name)
        put("title", person.title)
        put("department", person.department)
    put("phone", person.phones[0] if person.phones else None)
    put("email", person.emails[0] if person.emails else None)


def _dedupe(contacts: list[Contact]) -> list[Contact]:
    seen: set[tuple[object, ...]] = set()
    out = []
    for c in contacts:
        key = tuple(
            [c.role] + [getattr(c, f).value if getattr(c, f) else None for f in ("name", "phone", "email")]
        )
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out
