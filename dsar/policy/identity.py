"""Who the policy belongs to (name and short label) and when it was announced, took effect, last changed.

The organisation names itself in the opening sentence, almost always as `X(이하 '회사')` or in the title line
`X 개인정보 처리방침`. The slug is the main label of its own web domain or contact e-mail domain; hosts of
the complaint bodies, mail providers and link shorteners are skipped because every policy names them.
"""

from __future__ import annotations

import re
from collections import Counter

from dsar.policy.model import Contact, Found, PolicyDates
from dsar.policy.text import Line
from dsar.policy.values import find_dates, find_emails, find_hosts, main_label

_IHA = re.compile(r"[(（]\s*(?:[^()（）]*?,\s*)?이하\s*[\"'“‘「『]?\s*(?P<alias>[^\"'”’」』)）]{1,20})")
_BAD_ALIAS = re.compile(r"서비스|앱|사이트|홈페이지|방침|법|개인정보|정보주체|이용자|회원")
_TITLE = re.compile(r"^(?P<org>.+?)\s*(?:의\s*)?개인\s*정보\s*(?:의\s*)?(?:처리|취급)\s*방침")
_ORG_FIELD = re.compile(r"^(?:상호|회사명|기관명|법인명)\s*[:：]\s*(?P<org>.+)$")
_ORG_KIND = re.compile(
    r"주식회사|유한회사|\(주\)|㈜|재단법인|사단법인|학교법인|의료법인|사회복지법인|협동조합"
)
_QUOTES = "「」『』“”\"'‘’<>[]《》〈〉*_ "
GENERIC_LABELS = frozenset(
    "gmail naver daum hanmail kakao nate hotmail outlook yahoo icloud google apple microsoft "
    "mozilla goo bit kisa kopico spo police cyber pipc privacy law w3 instagram facebook youtube "
    "twitter x kakaocorp navercorp ecrm cyberbureau".split()
)
_GENERIC_HOSTS = tuple(
    "kisa.or.kr kopico.go.kr spo.go.kr police.go.kr cyber.go.kr pipc.go.kr privacy.go.kr law.go.kr "
    "goo.gl bit.ly".split()
)

DATE_LABELS: dict[str, re.Pattern[str]] = {
    "announced": re.compile(r"공고(?:\s*일(?:자)?)?|게시\s*일(?:자)?|공표\s*일(?:자)?"),
    "effective": re.compile(
        r"시행(?:\s*일(?:자)?)?|적용\s*일(?:자)?|효력\s*발생\s*일|effective(?:\s*date)?", re.IGNORECASE
    ),
    "last_changed": re.compile(
        r"최종\s*(?:변경|수정|개정)\s*(?:일자|일)?|(?:변경|개정|수정)(?:\s*일(?:자)?)?|last\s*(?:updated|modified|changed)",
        re.IGNORECASE,
    ),
}
_LABEL_GAP = re.compile(r"^\s*(?:[(（][^)）]*[)）])?\s*[:：]?\s*$")
_AFTER: dict[str, re.Pattern[str]] = {
    "effective": re.compile(r"^\s*(?:부터|일부터|에)?\s*(?:시행|적용|효력)"),
    "last_changed": re.compile(r"^\s*(?:에|자로)?\s*(?:개정|변경|수정)(?!\s*예정)"),
    "announced": re.compile(r"^\s*(?:에|자로)?\s*(?:공고|게시|공표)"),
}


def read_org(lines: list[Line]) -> Found | None:
    """The organisation as it names itself in the opening lines."""
    head = [ln for ln in lines[:40] if not ln.blank]
    for ln in head:
        for m in _IHA.finditer(ln.text):
            if _BAD_ALIAS.search(m["alias"]):
                continue
            org = _before(ln.text[: m.start()])
            if org:
                return Found(org, (ln.no,))
    for ln in head[:5]:
        m = _TITLE.match(ln.text)
        if m and m["org"].strip(_QUOTES):
            return Found(m["org"].strip(_QUOTES), (ln.no,))
    for ln in lines:
        m = _ORG_FIELD.match(ln.text)
        if m:
            return Found(m["org"].strip(_QUOTES), (ln.no,))
    return None


def _before(text: str) -> str | None:
    """The name right before `(이하`: last clause of the text, particles and quote marks trimmed."""
    spaced = text[-1:].isspace()  # `(주)알파코는 (이하`: a particle, then a space, then the bracket
    text = re.split(r"[.。!?]\s+|,\s+|\s+-\s+", text)[-1]
    text = text.strip().strip(_QUOTES)
    if spaced:
        text = re.sub(r"(?<=[가-힣)])\s*(?:은|는|이|가|에서는|에서)$", "", text)
    kind = _ORG_KIND.search(text)
    if kind and kind.start() > 0 and re.search(r"(?:는|은|한|된|인|의)\s+$", text[: kind.start()]):
        text = text[kind.start() :]  # `…가 운영하는 주식회사 X`
    text = text.strip(_QUOTES)
    if not text or len(text) > 40:
        return None
    return text


def read_slug(lines: list[Line], contacts: list[Contact]) -> Found | None:
    """Main label of the organisation's own domain: contact e-mail domains weigh most, then other mentions."""
    score: Counter[str] = Counter()
    where: dict[str, list[int]] = {}
    first: dict[str, int] = {}

    def add(host: str, weight: int, no: int) -> None:
        host = host.lower()
        if host.endswith(_GENERIC_HOSTS):
            return
        label = main_label(host)
        if label in GENERIC_LABELS or len(label) < 2:
            return
        score[label] += weight
        where.setdefault(label, []).append(no)
        first.setdefault(label, no)

    for c in contacts:
        if c.email:
            add(c.email.value.split("@", 1)[1], 3, c.email.lines[0])
    for ln in lines:
        for e in find_emails(ln.text):
            add(e.value.split("@", 1)[1], 2, ln.no)
        for h in find_hosts(ln.text):
            add(h.value, 1, ln.no)
    if not score:
        return None
    best = max(score, key=lambda k: (score[k], -first[k]))
    return Found(best, tuple(sorted(set(where[best]))))


def read_dates(lines: list[Line]) -> PolicyDates:
    """공고일자, 시행일자, 최종 변경일 (labelled, or `…부터 시행합니다`); old-version ranges are skipped."""
    dates = PolicyDates()
    for ln in lines:
        text = ln.text
        for iso, m in find_dates(text):
            before, after = text[: m.start()], text[m.end() :]
            if re.search(r"~\s*$", before) or re.match(r"^\s*~", after):
                continue
            kind = _labelled(before) or next((k for k, p in _AFTER.items() if p.match(after)), None)
            if kind is not None and getattr(dates, kind) is None:
                setattr(dates, kind, Found(iso, (ln.no,)))
    return dates


def _labelled(before: str) -> str | None:
    """The date label that ends right before a date (`시행일자 :`, `Last updated (최종 변경일):`)."""
    best: tuple[int, str] | None = None
    for kind, pattern in DATE_LABELS.items():
        for m in pattern.finditer(before):
            if _LABEL_GAP.match(before[m.end() :]) and (best is None or m.start() > best[0]):
                best = (m.start(), kind)
    return best[1] if best else None
