"""Small value readers shared by the extractors: phone numbers, e-mail, web hosts, dates, periods, law names.

Korean policies write the same number as 02)2163-5700, (02) 2163 5700, 02.2163.5700 or +82-2-2163-5700; the
workflow needs one spelling to match and dial, so every phone number goes through `normalize_phone`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_AREA_PHONE = re.compile(
    r"(?<![\d])(?:\+\s*82[\s.\-]*(?:\(0\)\s*)?(?P<intl>\d{1,2})|\(?(?P<area>0\d{1,2})\)?)"
    r"[\s.\-)]*(?P<mid>\d{3,4})[\s.\-]*(?P<last>\d{4})(?!\d)"
)
_REP_PHONE = re.compile(r"(?<![\d\-])(?P<head>1[5-9]\d{2})[\s.\-](?P<tail>\d{4})(?![\d\-])")
# Short service numbers (118, 182, 1301) only count after a phone cue, never inside an address.
_SHORT_PHONE = re.compile(
    r"(?:국번\s*없이\)?|☎|☏|전화(?:번호)?\s*[:：]?|tel\.?\s*[:：]?|[/,(:：|]|^)\s*(?P<num>1\d{2,3})(?![\d\-.])",
    re.IGNORECASE,
)
_FAX_CUE = re.compile(r"(?:팩스|팩시밀리|모사\s*전송|fax|f\.)\s*(?:번호)?\s*[:：)]?\s*$", re.IGNORECASE)
# `privacy＠x.kr` and `privacy(at)x.kr` are common anti-spam spellings of the same address.
EMAIL_RE = re.compile(
    r"(?<![\w.+\-])(?P<local>[A-Za-z0-9._%+\-]+)(?:@|＠|\s*[\[(]\s*(?:at|AT|골뱅이)\s*[\])]\s*)"
    r"(?P<domain>[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})"
)
URL_RE = re.compile(
    r"(?<![@\w.\-])(?:https?://)?(?P<host>(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+"
    r"(?:com|net|org|kr|io|co|gg|app|dev|ai|me|info|biz|jp|cn|us|uk|edu|gov|tv|xyz|shop|store|page|site|so|ly|gl"
    r"|to))(?![\w\-])(?::\d+)?(?:/(?!\d)[A-Za-z0-9._~:/?#@!$&'*+,;=%\-]*)?",
    re.IGNORECASE,
)
DATE_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*(?:년|[.\-/])\s*(?P<m>\d{1,2})\s*(?:월|[.\-/])\s*(?P<d>\d{1,2})(?!\d)\s*일?\.?"
)
PERIOD_RE = re.compile(r"(?<![\d.])(?P<n>\d{1,3})\s*(?P<unit>개\s*월|년|주|일|시간)|반\s*영구|준\s*영구|영구")
LAW_NAME_RE = re.compile(
    r"(?:법률|(?<![방수용문해기편마])법|시행령|시행규칙|규정|규칙|고시|조례)(?:\s*제\s*\d+\s*조(?:\s*의\s*\d+)?(?:\s*제\s*\d+\s*항)?)?$"
)
_LAW_REF = re.compile(
    r"「(?P<name>[^」]{2,60})」(?P<art>\s*제\s*\d+\s*조(?:\s*의\s*\d+)?(?:\s*제\s*\d+\s*항)?)?"
)

_TWO_LEVEL_SUFFIXES = frozenset(
    "co.kr or.kr go.kr ac.kr re.kr ne.kr pe.kr ms.kr hs.kr es.kr sc.kr kg.kr mil.kr co.jp or.jp "
    "ne.jp co.uk org.uk com.cn com.au co.nz".split()
)


@dataclass(frozen=True, slots=True)
class Match:
    """A value found inside one line: normalised value, the text as written, and its span."""

    value: str
    written: str
    start: int
    end: int


def normalize_phone(digits: str) -> str:
    """Hyphenate a Korean number given as bare digits (0 prefix included): 02-2163-5700, 070-7011-3900."""
    if digits.startswith("02"):
        head, rest = "02", digits[2:]
    elif digits.startswith("0"):
        head, rest = (
            (digits[:4], digits[4:])
            if digits.startswith("050") and len(digits) == 12
            else (digits[:3], digits[3:])
        )
    elif len(digits) == 8:
        return f"{digits[:4]}-{digits[4:]}"
    else:
        return digits
    if len(rest) == 7:
        return f"{head}-{rest[:3]}-{rest[3:]}"
    if len(rest) == 8:
        return f"{head}-{rest[:4]}-{rest[4:]}"
    return f"{head}-{rest}"


def find_phones(text: str, *, include_fax: bool = False) -> list[Match]:
    """Phone numbers in a line, normalised; numbers labelled as fax are skipped unless asked for."""
    found: list[Match] = []
    taken: list[tuple[int, int]] = []
    for m in _AREA_PHONE.finditer(text):
        area = "0" + m["intl"] if m["intl"] else m["area"]
        found.append(Match(normalize_phone(area + m["mid"] + m["last"]), m.group(0), m.start(), m.end()))
        taken.append(m.span())
    for m in _REP_PHONE.finditer(text):
        if not any(s <= m.start() < e for s, e in taken):
            found.append(Match(f"{m['head']}-{m['tail']}", m.group(0), m.start(), m.end()))
    found.sort(key=lambda x: x.start)
    if include_fax:
        return found
    return [f for f in found if not is_fax(text, f.start)]


def is_fax(text: str, start: int) -> bool:
    """True when the number at `start` is introduced as a fax number (팩스 031-..., FAX: ...)."""
    return bool(_FAX_CUE.search(text[max(0, start - 12) : start]))


def find_short_phone(text: str) -> Match | None:
    """A 3-4 digit service number such as 118 or 1301, when it follows a phone cue."""
    m = _SHORT_PHONE.search(text)
    if not m:
        return None
    return Match(m["num"], m["num"], m.start("num"), m.end("num"))


def find_emails(text: str) -> list[Match]:
    """E-mail addresses, lower-case, with `＠` / `(at)` spellings turned into `@`."""
    return [
        Match(f"{m['local']}@{m['domain']}".lower().rstrip("."), m.group(0), m.start(), m.end())
        for m in EMAIL_RE.finditer(text)
    ]


def find_hosts(text: str) -> list[Match]:
    """Web hosts named in a line, lower-case and without `www.` (paths and schemes dropped)."""
    out = []
    for m in URL_RE.finditer(text):
        host = m["host"].lower().rstrip(".")
        if host.startswith("www."):
            host = host[4:]
        out.append(Match(host, m.group(0), m.start(), m.end()))
    return out


def main_label(host: str) -> str:
    """The label that names the organisation: rsupport for www.rsupport.com, alpaco for alpaco.co.kr."""
    parts = host.lower().split(".")
    if len(parts) >= 3 and ".".join(parts[-2:]) in _TWO_LEVEL_SUFFIXES:
        return parts[-3]
    return parts[-2] if len(parts) >= 2 else parts[0]


def find_dates(text: str) -> Iterator[tuple[str, re.Match[str]]]:
    """ISO dates (YYYY-MM-DD) written in any of the usual Korean forms, with their matches."""
    for m in DATE_RE.finditer(text):
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
        if 1 <= mo <= 12 and 1 <= d <= 31:
            yield f"{y:04d}-{mo:02d}-{d:02d}", m


def find_period(text: str) -> Match | None:
    """The first retention period in the text, as written but without inner spaces (5년, 3개월, 반영구)."""
    m = PERIOD_RE.search(text)
    if not m:
        return None
    return Match(re.sub(r"\s+", "", m.group(0)), m.group(0), m.start(), m.end())


def law_reference(text: str) -> str | None:
    """The first 「law」 named in a sentence, with its article if given: 의료법 시행규칙 제15조."""
    m = _LAW_REF.search(text)
    if not m:
        return None
    art = re.sub(r"\s+", "", m["art"] or "")
    return f"{m['name'].strip()} {art}".strip()


def looks_like_law(text: str) -> bool:
    """True for a law or regulation name (전자상거래 등에서의 소비자보호에 관한 법률, 통신비밀보호법)."""
    return bool(LAW_NAME_RE.search(clean_basis(text)))


def clean_basis(text: str) -> str:
    """Trim separators, brackets and quote marks around a basis taken from the text."""
    text = text.replace("「", "").replace("」", "").replace("『", "").replace("』", "")
    text = re.sub(r"\s+", " ", text).strip()
    text = text.strip(" -–—:：/|,·")
    while len(text) > 1 and text[0] in "(<[" and text[-1] in ")>]":
        text = text[1:-1].strip()
    if text.startswith("(") and text.count("(") > text.count(")"):
        text = text[1:].strip()
    if text.endswith(")") and text.count(")") > text.count("("):
        text = text[:-1].strip()
    return text
