"""What the controller keeps after the purpose ends, for how long, and on what basis.

A deletion request is checked item by item against this list (법 36① 단서), so only the retention section is
read: the 제3자 제공 and 위탁 tables also carry periods but say nothing about what survives a deletion.
Layouts handled: tables (any column order), `항목 : 5년 (근거)` lines, label groups (보존 항목 / 보존 근거 /
보존 기간), items grouped under a law heading, and plain sentences (…은 「소득세법」에 따라 5년간 보관합니다).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dsar.policy.model import Found, RetentionItem
from dsar.policy.tables import Table, column_roles
from dsar.policy.text import Line, collapse, strip_marks
from dsar.policy.values import clean_basis, find_period, law_reference, looks_like_law

_TABLE_ROLES = {
    "period": re.compile(r"기간"),
    "basis": re.compile(r"근거|사유|이유|법령|법률|관련\s*법"),
    "item": re.compile(r"항목|기록|명칭|파일|정보|내용|대상|구분"),
}
_NOT_RETENTION_TABLE = re.compile(r"제공\s*받|받는\s*자|수탁|위탁")
_LABEL = re.compile(
    r"^(?:(?P<item>(?:보존|보유|보관)\s*(?:항목|정보|대상)|항목)"
    r"|(?P<basis>(?:보존|보유|보관)\s*(?:이유|근거|사유)|근거\s*법령|관련\s*법령|법적\s*근거|근거|사유|이유)"
    r"|(?P<period>(?:보존|보유|보관)\s*기간|기간))\s*[:：]\s*(?P<value>.+)$"
)
_LABEL_SPLIT = re.compile(
    r"\s*[/|,]\s*(?=(?:보존|보유|보관|근거|관련|법적|항목|기간|사유|이유)[^:：/]{0,8}[:：])"
)
_FIRST_SEPARATOR = re.compile(r"\s*(?:[:：|]|\s[-–]\s)\s*")
_GROUP = re.compile(r"^(?P<x>.+?)\s*에\s*(?:의한|따른|의거한|근거한)\s*(?:보존|보관|보유|정보\s*보유)")
_SENTENCE_END = re.compile(r"(?:니다|한다|된다)\s*[.。]?\s*$")
_SENTENCE_SPLIT = re.compile(r"(?<=[다요])\.\s+")
_KEEP_VERB = re.compile(r"^\s*(?:간|동안)?\s*(?:보관|보존|보유)")
_LEAD = re.compile(r"^(?:다만|단|또한|그리고|그러나)\s*,?\s*")
_SEPARATORS = ":：-–|/,("
_FOR = r"(?:을|를)?\s*위(?:해|하여)(?:서)?"
_BY = r"(?:에\s*따라|에\s*의해|에\s*의하여|에\s*의거하여|에\s*근거하여)"
_AGAINST = r"(?:(?<=에 대비)|(?<=에대비))(?:하여|해서|해)"  # `…에 대비하여`: the reason keeps `에 대비`
_REASON_FIRST = re.compile(rf"^(?P<basis>.+?)(?:{_FOR}|{_AGAINST})\s*,?\s*(?P<item>.+?)(?:을|를|은|는)\s*$")
_ITEM_FIRST = re.compile(rf"^(?P<item>.+?)(?:은|는|을|를)\s+(?P<basis>.+?)(?:{_FOR}|{_BY}|{_AGAINST})\s*$")
_ITEM_ONLY = re.compile(r"^(?P<item>.+?)(?:은|는|을|를)\s*$")
_TRAILING_LAW = re.compile(r"\s*[(（](?P<law>[^()（）]+)[)）]\s*$")


@dataclass(slots=True)
class _Record:
    item: Found | None = None
    basis: Found | None = None
    period: Found | None = None


@dataclass(slots=True)
class _State:
    out: list[RetentionItem] = field(default_factory=list)
    group: Found | None = None
    pending: Found | None = None
    record: _Record | None = None

    def flush(self) -> None:
        rec = self.record
        if rec is not None and rec.item is not None and rec.period is not None:
            self.out.append(RetentionItem(rec.item, rec.period, rec.basis or self.group))
        self.record = None


def read_retention(lines: list[Line], *, tables: list[Table], top_headings: set[int]) -> list[RetentionItem]:
    """Retention items from the retention-section lines, de-duplicated, in order of appearance."""
    scope = {ln.no for ln in lines}
    items: list[RetentionItem] = []
    table_lines: set[int] = set()
    for table in tables:
        if table.line_nos & scope:
            table_lines |= table.line_nos
            items.extend(_from_table(table))
    state = _State()
    for ln in lines:
        if ln.no in table_lines:
            continue
        if ln.no in top_headings:
            state.flush()
            state.group = state.pending = None
            continue
        _line(state, ln)
    state.flush()
    items.extend(state.out)
    items.sort(key=lambda r: r.item.lines[0])
    seen: set[tuple[str, str, str | None]] = set()
    unique = []
    for item in items:
        if item.key() not in seen:
            seen.add(item.key())
            unique.append(item)
    return unique


def _from_table(table: Table) -> list[RetentionItem]:
    if table.header is None or any(_NOT_RETENTION_TABLE.search(c.text) for c in table.header):
        return []
    roles = {role: idx for idx, role in reversed(column_roles(table.header, _TABLE_ROLES).items())}
    if "item" not in roles or "period" not in roles:
        return []
    out = []
    for row in table.rows:
        if len(row) <= max(roles.values()):
            continue
        item_cell, period_cell = row[roles["item"]], row[roles["period"]]
        period = find_period(period_cell.text)
        if period is None or item_cell.empty:
            continue
        basis = None
        if "basis" in roles and not row[roles["basis"]].empty:
            cell = row[roles["basis"]]
            basis = Found(clean_basis(cell.text), cell.lines)
        out.append(
            RetentionItem(
                Found(item_cell.text, item_cell.lines), Found(period.value, period_cell.lines), basis
            )
        )
    return out


def _line(state: _State, ln: Line) -> None:
    text = strip_marks(ln.text).strip("[]<>〈〉《》【】 ")
    if not text:
        return
    parts = _LABEL_SPLIT.split(text)
    matches = [m for part in parts if (m := _LABEL.match(part))]
    if len(parts) > 1 and len(matches) == len(parts):  # 항목: … / 근거: … / 기간: …
        for m in matches:
            _label(state, m, ln)
        return
    label = _LABEL.match(text)
    if label:
        _label(state, label, ln)
        return
    period = find_period(text)
    if period is None:
        state.flush()
        if looks_like_law(text) and len(text) <= 60:
            state.group, state.pending = Found(clean_basis(text), (ln.no,)), None
        elif (group := _GROUP.match(text)) and len(text) <= 40:
            state.group, state.pending = Found(clean_basis(group["x"]), (ln.no,)), None
        elif (law := law_reference(text)) is not None:
            state.group, state.pending = Found(law, (ln.no,)), None
        elif len(text) <= 60 and not _SENTENCE_END.search(text) and not text.endswith(":"):
            state.pending = Found(collapse(text), (ln.no,))
        else:
            state.pending = None
        return
    state.flush()
    state.pending = None
    if not _SENTENCE_END.search(text):
        _inline(state, text, ln)
    else:
        _sentences(state, text, ln)


def _label(state: _State, m: re.Match[str], ln: Line) -> None:
    value = m["value"].strip()
    if m["item"]:
        state.flush()
        state.record = _Record(item=Found(collapse(value), (ln.no,)))
        return
    if state.record is None:
        state.record = _Record(item=state.pending)
        state.pending = None
    if m["basis"]:
        state.record.basis = Found(clean_basis(value), (ln.no,))
    else:
        period = find_period(value)
        if period is not None:
            state.record.period = Found(period.value, (ln.no,))


def _inline(state: _State, text: str, ln: Line) -> None:
    """`계약 또는 청약철회 등에 관한 기록 : 5년 (전자상거래법)` and its dash / slash / pipe variants."""
    period = find_period(text)
    assert period is not None
    left = text[: period.start].rstrip()
    if left and left[-1] in _SEPARATORS:
        item = left[:-1].strip()
    else:  # `도서 대출 기록 : 반납일부터 1년`: a short qualifier between the separator and the period
        sep = _FIRST_SEPARATOR.search(left)
        qualifier = left[sep.end() :] if sep else ""
        if sep is None or "(" in qualifier or len(qualifier) > 20:
            return
        item = left[: sep.start()].strip()
    basis_text = clean_basis(text[period.end :])
    if not item or len(item) > 100:
        return
    trailing = _TRAILING_LAW.search(item)
    if trailing and looks_like_law(trailing["law"]) and not basis_text:
        item, basis_text = item[: trailing.start()].strip(), clean_basis(trailing["law"])
    basis = Found(basis_text, (ln.no,)) if basis_text else state.group
    state.out.append(RetentionItem(Found(collapse(item), (ln.no,)), Found(period.value, (ln.no,)), basis))


def _sentences(state: _State, text: str, ln: Line) -> None:
    """`…은 「소득세법」에 따라 5년간 보관합니다`, `…를 위해 …을 30일간 보관합니다`."""
    for sentence in _SENTENCE_SPLIT.split(text):
        period = find_period(sentence)
        if period is None or not _KEEP_VERB.match(sentence[period.end :]):
            continue
        prefix = _LEAD.sub("", sentence[: period.start].strip())
        basis_text: str | None = None
        if m := _REASON_FIRST.match(prefix):
            item, basis_text = m["item"], m["basis"]
        elif m := _ITEM_FIRST.match(prefix):
            item, basis_text = m["item"], m["basis"]
        elif m := _ITEM_ONLY.match(prefix):
            item = m["item"]
        else:
            continue
        item = collapse(item)
        if not item or len(item) > 60:
            continue
        basis = Found(clean_basis(basis_text), (ln.no,)) if basis_text else state.group
        state.out.append(RetentionItem(Found(item, (ln.no,)), Found(period.value, (ln.no,)), basis))
