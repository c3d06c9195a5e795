"""Outside bodies the policy sends people to: 개인정보침해신고센터, 개인정보분쟁조정위원회, 검찰, 경찰.

Every policy must name where to complain (법 30①). Names vary (개인정보 침해신고센터, a typo such as
개인분쟁조정위원회, the police unit's name of the year), so each body is matched loosely and given its
canonical name; the prosecutors' and police units keep the unit name the policy uses. A body's web host and
phone number are read from its own line and the few lines that follow, up to the next body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsar.policy.model import ComplaintBody, Found
from dsar.policy.text import Line, strip_marks
from dsar.policy.values import find_hosts, find_phones, find_short_phone


@dataclass(frozen=True, slots=True)
class _Spec:
    canonical: str
    pattern: re.Pattern[str]
    hosts: tuple[str, ...]
    keeps_unit: bool = False


_UNIT = (  # the unit after 대검찰청 / 경찰청: 사이버수사과, 사이버범죄수사단, 사이버안전국 …
    r"(?:\s*(?P<unit>(?:사이버|첨단|디지털|과학)[가-힣]*?(?:수사|안전|범죄|테러|대응)?[가-힣]*?"
    r"(?:국|과|단|센터|팀|부)))?"
)
BODIES: tuple[_Spec, ...] = (
    _Spec(
        "개인정보침해신고센터",
        re.compile(r"개인\s*정보\s*침해\s*신고\s*센터"),
        ("privacy.kisa.or.kr", "privacy.go.kr"),
    ),
    _Spec(
        "개인정보분쟁조정위원회",
        re.compile(r"개인\s*(?:정보\s*)?(?:보호\s*)?분쟁\s*조정\s*위원회"),
        ("kopico.go.kr",),
    ),
    _Spec("대검찰청", re.compile(r"대검찰청" + _UNIT), ("spo.go.kr",), keeps_unit=True),
    _Spec(
        "경찰청", re.compile(r"(?<![가-힣])경찰청" + _UNIT), ("police.go.kr", "cyber.go.kr"), keeps_unit=True
    ),
)
_ADDRESS = re.compile(r"^(?:주\s*소|소재지|address|소관\s*업무|업무)\s*[:：]", re.IGNORECASE)
_SENTENCE = re.compile(r"(?:니다|바랍니다|있습니다)\s*[.。]?\s*$")


@dataclass(slots=True)
class _Mention:
    spec: _Spec
    name: str
    line: Line
    end: int  # offset in line.text where the name ends


_ANY_BODY = re.compile(r"침해|분쟁|검찰|경찰")


def _mentions(line: Line) -> list[_Mention]:
    text = line.text
    if not _ANY_BODY.search(text) or _ADDRESS.match(strip_marks(text)):
        return []
    found = []
    for spec in BODIES:
        for m in spec.pattern.finditer(text):
            name = spec.canonical
            if spec.keeps_unit and m.group("unit"):
                unit = re.sub(r"\s+", "", m.group("unit"))
                name = f"{spec.canonical} {unit}"
            found.append((m.start(), _Mention(spec, name, line, m.end())))
    return [m for _, m in sorted(found, key=lambda pair: pair[0])]


def mention_lines(lines: list[Line]) -> set[int]:
    """Line numbers that name a complaint body (they end a contact block)."""
    return {ln.no for ln in lines if _mentions(ln)}


def read_bodies(lines: list[Line], *, stops: set[int]) -> list[ComplaintBody]:
    """Complaint bodies in order of first mention; repeated mentions fill in a missing host or number."""
    bodies: dict[str, ComplaintBody] = {}
    flat: list[_Mention] = [m for ln in lines for m in _mentions(ln)]
    index = {ln.no: i for i, ln in enumerate(lines)}
    for k, mention in enumerate(flat):
        nxt = flat[k + 1] if k + 1 < len(flat) else None
        pieces = _span(mention, nxt, lines, index, stops)
        body = bodies.get(mention.spec.canonical)
        if body is None:
            body = ComplaintBody(name=Found(mention.name, (mention.line.no,)))
            bodies[mention.spec.canonical] = body
        _fill(body, mention.spec, pieces)
    return list(bodies.values())


def _span(
    mention: _Mention, nxt: _Mention | None, lines: list[Line], index: dict[int, int], stops: set[int]
) -> list[tuple[str, int]]:
    """Text belonging to one mention: rest of its line, then following lines up to the next body."""
    ln = mention.line
    stop_at = nxt.line.no if nxt is not None else None
    if nxt is not None and nxt.line.no == ln.no:
        start_next = ln.text.find(nxt.name.split()[0], mention.end)
        return [(ln.text[mention.end : start_next if start_next >= 0 else None], ln.no)]
    pieces = [(ln.text[mention.end :], ln.no)]
    i = index[ln.no] + 1
    while i < len(lines) and len(pieces) < 7:
        follow = lines[i]
        if follow.no == stop_at or follow.no in stops or follow.blank or follow.no != lines[i - 1].no + 1:
            break
        if _SENTENCE.search(follow.text) and not find_hosts(follow.text):
            break
        if not _ADDRESS.match(strip_marks(follow.text)):
            pieces.append((follow.text, follow.no))
        i += 1
    return pieces


def _fill(body: ComplaintBody, spec: _Spec, pieces: list[tuple[str, int]]) -> None:
    for text, no in pieces:
        if body.url is None:
            hosts = find_hosts(text)
            own = [h for h in hosts if h.value.endswith(spec.hosts)]
            pick = own[0] if own else (hosts[0] if hosts else None)
            if pick is not None:
                body.url = Found(pick.value, (no,))
                text = text[: pick.start] + " " * (pick.end - pick.start) + text[pick.end :]
        if body.phone is None:
            phones = find_phones(text)
            if phones:
                body.phone = Found(phones[0].value, (no,))
            else:
                for h in find_hosts(text):
                    text = text[: h.start] + " " * (h.end - h.start) + text[h.end :]
                short = find_short_phone(text)
                if short is not None:
                    body.phone = Found(short.value, (no,))
