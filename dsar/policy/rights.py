"""Rights a person may exercise, the channels to use, and how the controller checks who is asking.

Read only from the lines of the rights section(s): the same words elsewhere mean something else (삭제 in the
파기 section is the controller deleting, 전화 in the 위탁 section is how a processor is told). When a policy
has no section headed as rights, sentences that pair a right with a request verb are used instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsar.policy.model import Channel, Found
from dsar.policy.text import Line
from dsar.policy.values import find_emails, find_phones

RIGHT_PATTERNS: dict[str, re.Pattern[str]] = {
    "열람": re.compile(r"열람|조회"),
    "정정": re.compile(r"정정|수정"),
    "삭제": re.compile(r"삭제"),
    "처리정지": re.compile(r"처리\s*(?:의\s*)?정지|처리\s*(?:를\s*)?(?:중단|중지)|처리정지"),
    "동의철회": re.compile(r"(?<!청약)(?<!청약\s)철회|탈퇴"),
    "전송요구": re.compile(r"전송\s*(?:을\s*)?요구|전송요구권|이동권|개인정보\s*이동"),
    "자동화결정": re.compile(r"자동화된\s*(?:의사\s*)?결정|자동화\s*결정"),
}
REQUEST_VERB = re.compile(r"요구|요청|청구|권리|행사")
RIGHTS_WORDING = re.compile(r"열람|정정|삭제|처리\s*정지")

_MENU_WORDS = re.compile(
    r"정보|수정|변경|탈퇴|설정|마이|계정|회원|관리|삭제|프로필|settings|profile|account|my\b", re.IGNORECASE
)
_BOARD_WORDS = re.compile(r"게시판|1\s*:\s*1\s*문의|Q\s*&\s*A|문의하기", re.IGNORECASE)
_BRACKET = re.compile(r"\[([^\]\[]{1,40})\](\s*(?:메뉴|화면|버튼|탭|페이지|에서|을\s*클릭|를\s*클릭))?")
_WEB_WORDS = re.compile(r"메뉴|마이\s*페이지|회원\s*정보\s*수정|앱\s*설정|온라인으로")
_HOMEPAGE = re.compile(r"홈페이지|누리집|웹\s*사이트|website", re.IGNORECASE)

CHANNEL_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"이메일|e-?mail|전자\s*우편|(?<![가-힣])메일|대표\s*메일", re.IGNORECASE),
    "phone": re.compile(r"(?<!휴대)(?<!휴대\s)전화|콜\s*센터|☎|\btel\b", re.IGNORECASE),
    "written": re.compile(r"서면|(?<!전자)(?<!전자\s)우편|등기|편지"),
    "fax": re.compile(r"팩스|팩시밀리|모사\s*전송|\bfax\b", re.IGNORECASE),
    "visit": re.compile(r"(?<!사이트)(?<!사이트\s)(?<!홈페이지\s)(?<!홈페이지)방문(?!\s*기록)|내방"),
}

VERIFICATION_PATTERNS: dict[str, re.Pattern[str]] = {
    "본인확인": re.compile(
        r"본인\s*(?:여부\s*)?(?:를\s*|을\s*)?확인|본인(?:인지|이거나|임을|인가|여부)[^.。\n]{0,40}?확인"
        r"|본인\s*또는[^.。\n]{0,30}?확인|신분증|(?:신원|신분)\s*(?:을|를)?\s*확인|verify your identity"
    ),
    "법정대리인": re.compile(r"법정\s*대리인"),
    "위임장": re.compile(r"위임장"),
    "로그인": re.compile(r"로그인|log\s*in|sign(?:ed)?\s*in", re.IGNORECASE),
    "본인인증": re.compile(
        r"본인\s*인증|휴대\s*(?:폰|전화)\s*(?:본인\s*)?인증|아이핀|i-?pin|실명\s*인증|PASS\s*인증",
        re.IGNORECASE,
    ),
}


@dataclass(slots=True)
class RightsReading:
    rights: dict[str, tuple[int, ...]]
    channels: list[Channel]
    verification: dict[str, tuple[int, ...]]
    fallback: bool


def has_rights_wording(lines: list[Line]) -> bool:
    return any(RIGHTS_WORDING.search(ln.text) for ln in lines)


def read_rights(
    rights_lines: list[Line],
    all_lines: list[Line],
    heading_nos: set[int],
    contact_email: Found | None,
    contact_phone: Found | None,
) -> RightsReading:
    """Rights, channels and verification from the rights section; falls back to request sentences."""
    fallback = False
    scope = rights_lines
    if not scope:
        fallback = True
        scope = [ln for ln in all_lines if REQUEST_VERB.search(ln.text) and RIGHTS_WORDING.search(ln.text)]
    rights = _collect(RIGHT_PATTERNS, scope, heading_nos, headings_too=True)
    verification = _collect(VERIFICATION_PATTERNS, scope, heading_nos, headings_too=False)
    channels = _channels(scope, heading_nos, contact_email, contact_phone)
    return RightsReading(rights, channels, verification, fallback)


def _collect(
    patterns: dict[str, re.Pattern[str]], lines: list[Line], heading_nos: set[int], *, headings_too: bool
) -> dict[str, tuple[int, ...]]:
    out: dict[str, list[int]] = {}
    for ln in lines:
        if ln.no in heading_nos and not headings_too:
            continue
        for key, pattern in patterns.items():
            if pattern.search(ln.text):
                out.setdefault(key, []).append(ln.no)
    return {k: tuple(v) for k, v in out.items()}


def _channels(
    lines: list[Line], heading_nos: set[int], contact_email: Found | None, contact_phone: Found | None
) -> list[Channel]:
    found: list[Channel] = []
    for ln in lines:
        if ln.no in heading_nos:
            continue
        text = ln.text
        found.extend(_web_and_board(ln))
        for kind, pattern in CHANNEL_PATTERNS.items():
            m = pattern.search(text)
            if kind == "email":
                emails = find_emails(text)
                if emails:
                    found.extend(Channel("email", e.value, (ln.no,)) for e in emails)
                    continue
            if kind == "phone":
                phones = find_phones(text)
                if phones:
                    found.extend(Channel("phone", p.value, (ln.no,)) for p in phones)
                    continue
            if not m:
                continue
            if kind == "email" and contact_email:
                found.append(Channel("email", contact_email.value, contact_email.lines))
            elif kind == "phone" and contact_phone:
                found.append(Channel("phone", contact_phone.value, contact_phone.lines))
            else:
                found.append(Channel(kind, m.group(0), (ln.no,)))
    unique: dict[tuple[str, str], Channel] = {}
    for ch in found:
        unique.setdefault((ch.kind, ch.value), ch)
    return list(unique.values())


def _web_and_board(ln: Line) -> list[Channel]:
    """Menus and boards: `[마이페이지 > 회원정보]` is web, `1:1 문의 게시판` board, 홈페이지 alone web."""
    text = ln.text
    out: list[Channel] = []
    board_spans: list[tuple[int, int]] = []
    for m in _BRACKET.finditer(text):
        inner = m.group(1)
        if _BOARD_WORDS.search(inner):
            out.append(Channel("board", f"[{inner}]", (ln.no,)))
            board_spans.append(m.span())
        elif _MENU_WORDS.search(inner) or m.group(2):
            out.append(Channel("web", f"[{inner}]", (ln.no,)))
    for m in _BOARD_WORDS.finditer(text):
        if not any(s <= m.start() < e for s, e in board_spans):
            out.append(Channel("board", m.group(0), (ln.no,)))
            board_spans.append(m.span())
    if not any(c.kind == "web" for c in out):
        m = _WEB_WORDS.search(text)
        if m:
            out.append(Channel("web", m.group(0), (ln.no,)))
        else:
            for hm in _HOMEPAGE.finditer(text):
                after = text[hm.end() : hm.end() + 30]
                if not _BOARD_WORDS.search(after):
                    out.append(Channel("web", hm.group(0), (ln.no,)))
                    break
    return out
