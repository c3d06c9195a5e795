"""Tables that survived copy-and-paste as text, rebuilt into header + rows.

Two shapes reach us. A row per line (`a | b | c |`, markdown `| a | b |`, or HTML rows converted by
`htmltext.py`), and a cell per line (`a |` on its own line, as browsers copy many Korean policy pages),
where a long cell can spill over several lines and only its last line carries the `|`. For the second
shape the column count comes from the run of header cells at the top (보존 항목 | 보존 근거 | 보존 기간).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dsar.policy.text import Line, collapse

_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")
HEADER_WORDS = re.compile(
    r"구분|항목|근거|기간|사유|이유|법령|명칭|목적|기관|홈페이지|전화|연락처|성명|이름|직위|직책|직급|부서|소속|이메일|메일"
    r"|업무|수탁|위탁|제공|받는|내용|비고|보존|보유|수집|\bname\b|\btitle\b|e-?mail|phone|department",
    re.IGNORECASE,
)
_ROLE_CELL = re.compile(r"책\s*임\s*자|담\s*당\s*자|담당\s*부서|officer", re.IGNORECASE)
_SENTENCE = re.compile(r"(?:니다|습니다|한다|된다)\s*[.。]?\s*$|[.。]\s*$")


@dataclass(slots=True)
class Cell:
    text: str
    lines: tuple[int, ...]

    @property
    def empty(self) -> bool:
        return self.text in ("", "-", "–", "—")


@dataclass(slots=True)
class Table:
    header: list[Cell] | None
    rows: list[list[Cell]]
    line_nos: set[int] = field(default_factory=set)


def is_header_cell(text: str) -> bool:
    text = text.strip()
    return 0 < len(text) <= 20 and not re.search(r"[\d@,]", text) and bool(HEADER_WORDS.search(text))


def _row_cells(line: Line) -> list[str] | None:
    """Cells of a whole-row line, or None when the line is not one (needs two cells or more)."""
    text = line.text
    if "|" not in text:
        return None
    parts = [p.strip() for p in text.split("|")]
    if parts and parts[0] == "":
        parts = parts[1:]
    if parts and parts[-1] == "":
        parts = parts[:-1]
    return parts if len(parts) >= 2 else None


def _is_cell_line(line: Line) -> bool:
    return line.text.endswith("|") and line.text.count("|") == 1


def find_tables(lines: list[Line], stop_at: set[int]) -> list[Table]:
    """All tables in the lines; `stop_at` are heading line numbers, which always end a table."""
    tables: list[Table] = []
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.no in stop_at or ln.blank:
            i += 1
            continue
        if _SEPARATOR.match(ln.text) or _row_cells(ln) is not None:
            i = _read_row_table(lines, i, stop_at, tables)
        elif _is_cell_line(ln):
            i = _read_cell_table(lines, i, stop_at, tables)
        else:
            i += 1
    return tables


def _read_row_table(lines: list[Line], i: int, stop_at: set[int], out: list[Table]) -> int:
    rows: list[list[Cell]] = []
    nos: set[int] = set()
    while i < len(lines) and lines[i].no not in stop_at:
        ln = lines[i]
        if _SEPARATOR.match(ln.text):
            nos.add(ln.no)
            i += 1
            continue
        cells = _row_cells(ln)
        if cells is None:
            break
        rows.append([Cell(collapse(c), (ln.no,)) for c in cells])
        nos.add(ln.no)
        i += 1
    if rows:
        key_value = all(
            len(r) == 2 and is_header_cell(r[0].text) for r in rows
        )  # 성명 | 홍길동 (label, value)
        header = (
            rows[0]
            if not key_value
            and any(is_header_cell(c.text) for c in rows[0])
            and not any(re.search(r"\d|@", c.text) for c in rows[0])
            else None
        )
        out.append(Table(header, rows[1:] if header else rows, nos))
    return i


def _read_cell_table(lines: list[Line], i: int, stop_at: set[int], out: list[Table]) -> int:
    items: list[tuple[str, Line]] = []  # ("cell" | "text", line)
    while i < len(lines):
        ln = lines[i]
        if ln.blank or ln.no in stop_at or _row_cells(ln) is not None:
            break
        if _is_cell_line(ln):
            items.append(("cell", ln))
        else:
            if not _spills_into_cell(lines, i, stop_at):
                break
            items.append(("text", ln))
        i += 1
    while items:
        items = _build_cell_table(items, out)
    return i


def _spills_into_cell(lines: list[Line], i: int, stop_at: set[int]) -> bool:
    """True when the text at `i` is the start of a cell whose `|` comes a few lines later."""
    for ln in lines[i + 1 : i + 6]:
        if ln.blank or ln.no in stop_at or ("|" in ln.text and not _is_cell_line(ln)):
            return False
        if _is_cell_line(ln):
            return True
    return False


def _build_cell_table(items: list[tuple[str, Line]], out: list[Table]) -> list[tuple[str, Line]]:
    """Turn one run of cell lines into a table; returns the items left over after a prose break."""
    ncols = 0
    # A role in the second cell means the roles are the columns (구분 | 보호책임자 | 보호담당자).
    transposed = len(items) > 1 and items[1][0] == "cell" and bool(_ROLE_CELL.search(items[1][1].text))
    for kind, ln in items:
        text = ln.text.rstrip("|")
        fits = _ROLE_CELL.search(text) and len(text) <= 30 if transposed and ncols else is_header_cell(text)
        if kind != "cell" or not fits:
            break
        ncols += 1
    if ncols < 2:
        out.append(Table(None, [], {ln.no for _, ln in items}))
        return []
    header = [Cell(collapse(ln.text.rstrip("|")), (ln.no,)) for _, ln in items[:ncols]]
    cells: list[Cell] = []
    pending: list[Line] = []
    nos = {ln.no for _, ln in items[:ncols]}
    rest: list[tuple[str, Line]] = []
    for pos, (kind, ln) in enumerate(items[ncols:], start=ncols):
        if kind == "text":
            if not pending and len(cells) % ncols == 0 and _SENTENCE.search(ln.text):
                rest = items[pos + 1 :]
                nos.add(ln.no)
                break
            pending.append(ln)
            continue
        parts = [p.text for p in pending] + [ln.text.rstrip("|")]
        cells.append(Cell(collapse(" ".join(parts)), tuple(p.no for p in pending) + (ln.no,)))
        nos.update(p.no for p in pending)
        nos.add(ln.no)
        pending = []
    rows = [cells[k : k + ncols] for k in range(0, len(cells), ncols)]
    out.append(Table(header, rows, nos))
    return rest


def column_roles(header: list[Cell], roles: dict[str, re.Pattern[str]]) -> dict[int, str]:
    """Map column index to the first role whose pattern matches the header text."""
    out: dict[int, str] = {}
    for idx, cell in enumerate(header):
        for role, pattern in roles.items():
            if pattern.search(cell.text):
                out[idx] = role
                break
    return out
