"""Find the headings of a policy and tag every line with the topics of the section it sits in.

Korean policies number their sections in many ways (1., 01., 제1조, 가., Ⅰ., 1), [제목], or a bare title line)
and reuse the same marks for lists inside sections and for a table of contents at the top. The top-level
kind is the one whose numbers run in order and whose titles name policy topics; list items and the table of
contents fall out because their numbers restart or sit on consecutive lines with no body between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dsar.policy.text import Line, strip_marks
from dsar.policy.values import looks_like_law

TOPICS: dict[str, re.Pattern[str]] = {
    "rights": re.compile(
        r"권리|열람|정정|삭제|처리\s*정지|철회|탈퇴|전송\s*요구|자동화된?\s*(?:의사\s*)?결정|행사\s*방법|\brights?\b",
        re.IGNORECASE,
    ),
    "retention": re.compile(r"보유|보존|보관\s*기간|이용\s*기간|how long|retention", re.IGNORECASE),
    "contacts": re.compile(
        r"책임자|담당자|담당\s*부서|고충\s*처리|연락처|문의처|privacy officer|privacy team", re.I
    ),
    "bodies": re.compile(r"구제|침해|신고|분쟁|도움|complain", re.IGNORECASE),
    "dates": re.compile(r"부칙|변경|고지|시행|공고|개정"),
    "other": re.compile(
        r"수집|목적|파기|위탁|제\s*3\s*자|제공|안전|쿠키|의무|링크|국외|이전|가명|아동|대책|보호\s*조치|행태|항목|기타"
        r"|collect|use it|processor|cookie|secur",
        re.IGNORECASE,
    ),
}
_NOT_RETENTION = re.compile(r"위탁|제\s*3\s*자|제공")

_KIND_PATTERNS: dict[str, re.Pattern[str]] = {
    "jo": re.compile(
        r"^제\s*(?P<n>\d+)\s*조(?:\s*의\s*\d+)?\s*(?:[(（]\s*(?P<t>[^)）]+?)\s*[)）].*|(?P<t2>.*))$"
    ),
    "num": re.compile(r"^(?P<n>\d{1,2})\s*[.．](?!\s*\d)\s*(?P<t>.+)$"),
    "roman": re.compile(
        r"^(?P<r>[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ]|(?:I{1,3}|IV|VI{0,3}|IX|X)(?=\s*[.)]))\s*[.)．]?\s*(?P<t>.+)$"
    ),
    "kor": re.compile(r"^\(?(?P<k>[가나다라마바사아자차카타파하])\s*[.)．]\s*(?P<t>.+)$"),
    "paren": re.compile(r"^(?:(?P<n>\d{1,2})\s*\)|\((?P<n2>\d{1,2})\))\s*(?P<t>.+)$"),
    "circ": re.compile(r"^(?P<c>[①-⑳])\s*(?P<t>.+)$"),
    "bracket": re.compile(
        r"^(?:[\[【〔<〈《]\s*(?P<t>[^\]】〕>〉》]+?)\s*[\]】〕>〉》]|[■□◆◇▶▷●◎★☞◈▣]\s*(?P<t2>.+))$"
    ),
}
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_KIND_PRIORITY = ("jo", "num", "roman", "kor", "paren", "bracket", "circ", "plain")
_ROMAN = {ch: n for n, ch in enumerate("ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ", start=1)} | {
    r: n for n, r in enumerate(("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"), start=1)
}
_SENTENCE_END = re.compile(r"(?:다|요|니다|시오|세요|음|함)\s*[.。!]?\s*$|니다|[.。]\s*$")
_LABEL_VALUE = re.compile(r"[:：]\s*\S")


@dataclass(frozen=True, slots=True)
class Heading:
    line: Line
    kind: str
    number: int | None
    title: str
    topics: frozenset[str]


@dataclass(slots=True)
class Section:
    heading: Heading | None
    start: int  # 1-based, inclusive
    end: int  # 1-based, inclusive
    topics: frozenset[str]


@dataclass(slots=True)
class Outline:
    """The line list plus, per line, the topics in force there and which lines are headings."""

    lines: list[Line]
    sections: list[Section]
    line_topics: list[frozenset[str]]
    headings: dict[int, Heading] = field(default_factory=dict)  # line no -> heading (top and sub)
    top_kind: str | None = None

    def lines_with(self, *topics: str) -> list[Line]:
        wanted = set(topics)
        return [ln for ln in self.lines if wanted & self.line_topics[ln.no - 1]]


def topics_of(title: str) -> frozenset[str]:
    """Policy topics named in a heading title."""
    found = {name for name, pattern in TOPICS.items() if pattern.search(title)}
    if "retention" in found and _NOT_RETENTION.search(title):
        found.discard("retention")
    return frozenset(found)


def _number(kind: str, m: re.Match[str]) -> int | None:
    if kind in ("jo", "num"):
        return int(m["n"])
    if kind == "paren":
        return int(m["n"] or m["n2"])
    if kind == "kor":
        return "가나다라마바사아자차카타파하".index(m["k"]) + 1
    if kind == "circ":
        return ord(m["c"]) - ord("①") + 1
    if kind == "roman":
        return _ROMAN.get(m["r"])
    return None


def _title_ok(title: str) -> bool:
    title = title.strip()
    if not title or len(title) > 60 or title.endswith("|"):
        return False
    if _SENTENCE_END.search(title) or _LABEL_VALUE.search(title):
        return False
    return "@" not in title and not re.search(r"\d{2,4}[-.)]\d{3,4}", title)


def _candidates(lines: list[Line]) -> list[Heading]:
    out: list[Heading] = []
    for ln in lines:
        if ln.blank:
            continue
        text = _MD_HEADING.sub("", ln.text)
        for kind, pattern in _KIND_PATTERNS.items():
            m = pattern.match(text)
            if not m:
                continue
            title = (m.groupdict().get("t") or m.groupdict().get("t2") or "").strip()
            if kind == "jo" and not title:
                title = ln.text
            if not _title_ok(title) or (kind == "bracket" and looks_like_law(title)):
                break
            out.append(Heading(ln, kind, _number(kind, m), title, topics_of(title)))
            break
    return out


def _plain_candidates(lines: list[Line]) -> list[Heading]:
    """Bare title lines (no numbering): short, topical, between a blank line and a body."""
    out = []
    for i, ln in enumerate(lines):
        text = _MD_HEADING.sub("", ln.text)
        if ln.blank or ln.indent or len(text) > 30 or strip_marks(text) != text:
            continue
        if i > 0 and not lines[i - 1].blank:
            continue
        if i + 1 >= len(lines) or lines[i + 1].blank or not _title_ok(text) or re.search(r"\d{4}", text):
            continue
        topics = topics_of(text)
        if topics:
            out.append(Heading(ln, "plain", None, text, topics))
    return out


def _toc_lines(cands: list[Heading], lines: list[Line]) -> set[int]:
    """Line numbers of table-of-contents runs: 3+ same-kind numbered headings on back-to-back lines."""
    nonblank_next: dict[int, int] = {}
    prev: int | None = None
    for ln in lines:
        if not ln.blank:
            if prev is not None:
                nonblank_next[prev] = ln.no
            prev = ln.no
    toc: set[int] = set()
    run: list[Heading] = []

    def close() -> None:
        if len(run) >= 3:
            toc.update(h.line.no for h in run)

    for h in cands:
        if h.number is None:
            close()
            run = []
            continue
        if (
            run
            and run[-1].kind == h.kind
            and nonblank_next.get(run[-1].line.no) == h.line.no
            and (h.number == (run[-1].number or 0) + 1)
        ):
            run.append(h)
        else:
            close()
            run = [h]
    close()
    return toc


def _score(h: Heading, lines: list[Line]) -> float:
    score = 1.0 + (1.5 if h.topics else 0.0) + (0.5 if h.line.indent == 0 else 0.0)
    if h.line.no == 1 or lines[h.line.no - 2].blank:
        score += 0.5
    return score - (0.5 if len(h.title) > 40 else 0.0)


def _best_chain(cands: list[Heading], lines: list[Line]) -> tuple[float, list[Heading]]:
    """Best-scoring run of headings numbered up by one (a skipped or repeated number costs a point)."""
    if not cands:
        return 0.0, []
    if cands[0].number is None:  # unnumbered kinds: every topical candidate counts
        chosen = [h for h in cands if h.topics]
        return sum(_score(h, lines) for h in chosen), chosen
    best: list[float] = []
    back: list[int | None] = []
    for i, h in enumerate(cands):
        n = h.number or 0
        own = _score(h, lines)
        top, link = own - 1.5 * max(0, n - 1), None
        for j in range(i):
            step = n - (cands[j].number or 0)
            if step in (1, 2) or (step == 0 and h.topics):  # a skipped or repeated number is a typo
                total = best[j] + own - (0.0 if step == 1 else 1.0)
                if total > top:
                    top, link = total, j
        best.append(top)
        back.append(link)
    end = max(range(len(cands)), key=lambda k: best[k])
    chain: list[Heading] = []
    cursor: int | None = end
    while cursor is not None:
        chain.append(cands[cursor])
        cursor = back[cursor]
    return best[end], list(reversed(chain))


def build_outline(lines: list[Line]) -> Outline:
    """Split the policy into top-level sections and give each line the topics in force at it."""
    cands = _candidates(lines)
    toc = _toc_lines(cands, lines)
    cands = [h for h in cands if h.line.no not in toc]
    by_kind: dict[str, list[Heading]] = {}
    for h in cands:
        by_kind.setdefault(h.kind, []).append(h)
    scored = []
    for kind, group in by_kind.items():
        total, chain = _best_chain(group, lines)
        topical = sum(1 for h in chain if h.topics)
        scored.append((topical, total, -_KIND_PRIORITY.index(kind), kind, chain))
    scored.sort(reverse=True)
    top: list[Heading] = scored[0][4] if scored and scored[0][0] >= 2 else []
    top_kind = scored[0][3] if top else None
    if len([h for h in top if h.topics]) < 3:
        plain = _plain_candidates(lines)
        if len(plain) >= 3:
            top, top_kind = plain, "plain"
    top_lines = {h.line.no for h in top}
    subs = [h for h in cands if h.line.no not in top_lines]

    sections: list[Section] = []
    starts = [h.line.no for h in top]
    if not starts or starts[0] > 1:
        sections.append(Section(None, 1, (starts[0] - 1) if starts else len(lines), frozenset({"intro"})))
    for i, h in enumerate(top):
        end = starts[i + 1] - 1 if i + 1 < len(top) else len(lines)
        sections.append(Section(h, h.line.no, end, h.topics))

    line_topics: list[frozenset[str]] = [frozenset()] * len(lines)
    sub_iter = iter(sorted(subs, key=lambda h: h.line.no))
    pending = next(sub_iter, None)
    for section in sections:
        extra: frozenset[str] = frozenset()
        for no in range(section.start, section.end + 1):
            while pending is not None and pending.line.no <= no:
                if pending.line.no == no:
                    extra = pending.topics
                pending = next(sub_iter, None)
            line_topics[no - 1] = section.topics | extra
    headings = {h.line.no: h for h in [*top, *subs]}
    return Outline(lines, sections, line_topics, headings, top_kind)
