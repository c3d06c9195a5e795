"""Jinja filters for Korean notices: dates, phone numbers, won, particles, masking."""

from __future__ import annotations

import re
from datetime import date, datetime

from markupsafe import Markup, escape

from dsar import calendar_kr
from dsar.rights import Right

SEOUL = calendar_kr.KST


def _seoul(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"naive datetime {value.isoformat()}: notices show Korean time, give an aware datetime"
        )
    return value.astimezone(SEOUL)


def korean_date(value: date | datetime, weekday: bool = False) -> str:
    """2026-12-03 → "2026년 12월 3일"; weekday=True: "2026년 12월 3일(목)".

    A datetime is taken in Seoul time."""
    day = _seoul(value).date() if isinstance(value, datetime) else value
    return calendar_kr.korean_date_weekday(day) if weekday else calendar_kr.korean_date(day)


def korean_datetime(value: datetime) -> str:
    """An aware datetime in Seoul time: "2026년 11월 23일 10시 15분" (24-hour clock)."""
    moment = _seoul(value)
    return f"{korean_date(moment.date())} {moment.hour}시 {moment.minute:02d}분"


def phone(value: str) -> str:
    """Hyphenate Korean numbers: 0212345678 → 02-1234-5678, 01012345678 → 010-1234-5678, 18336972 → 1833-6972.

    Anything it does not recognise (118, extensions, foreign numbers) is returned as written.
    """
    digits = re.sub(r"\D", "", value)
    if value.strip().startswith("+82") and digits.startswith("82"):
        digits = "0" + digits[2:].lstrip("0")
    if digits.startswith("02") and len(digits) in (9, 10):
        return f"02-{digits[2:-4]}-{digits[-4:]}"
    if digits.startswith("050") and len(digits) == 12:
        return f"{digits[:4]}-{digits[4:8]}-{digits[8:]}"
    if digits.startswith("0") and len(digits) in (10, 11):
        return f"{digits[:3]}-{digits[3:-4]}-{digits[-4:]}"
    if digits[:2] in ("15", "16", "18") and len(digits) == 8:
        return f"{digits[:4]}-{digits[4:]}"
    return value


def won(amount: int) -> str:
    """12000 → "12,000원"."""
    return f"{amount:,}원"


# Whether a trailing character is read with a final consonant (받침), for digits and Latin letters as Koreans
# read them aloud; None when unknown.
_DIGIT_BATCHIM = {
    "0": True,
    "1": True,
    "2": False,
    "3": True,
    "4": False,
    "5": False,
    "6": True,
    "7": True,
    "8": True,
    "9": False,
}
_LATIN_BATCHIM = {c: True for c in "lmnLMN"} | {
    c: False for c in "abcdefghijkopqrstuvwxyzABCDEFGHIJKOPQRSTUVWXYZ"
}


def _final(word: str) -> tuple[bool, bool] | None:
    """(has 받침, 받침 is ㄹ) for the last readable character, or None when it cannot be told."""
    stripped = re.sub(r"[\s)\]」』'\"”’.,]+$", "", word)
    if not stripped:
        return None
    last = stripped[-1]
    if "가" <= last <= "힣":
        jong = (ord(last) - 0xAC00) % 28
        return jong != 0, jong == 8
    if last in _DIGIT_BATCHIM:
        return _DIGIT_BATCHIM[last], last in "178"
    if last in _LATIN_BATCHIM:
        return _LATIN_BATCHIM[last], last in "lL"
    return None


def josa(word: object, pair: str) -> str:
    """Attach the right particle: "개인정보"|josa("을/를") → "개인정보를"; "주소"|josa("으로/로") → "주소로".

    `pair` is "with 받침/without", e.g. "이/가", "은/는", "을/를", "과/와", "으로/로". Unknown endings get the
    conventional both-forms spelling ("을(를)").
    """
    text = str(word)
    with_final, without = pair.split("/")
    final = _final(text)
    if final is None:
        return f"{text}{with_final}({without})"
    has_final, is_rieul = final
    if with_final == "으로":
        return text + ("로" if not has_final or is_rieul else "으로")
    return text + (with_final if has_final else without)


_RIGHT_PHRASES = {
    Right.ACCESS: "개인정보 열람 요구",
    Right.RECTIFICATION: "개인정보 정정 요구",
    Right.ERASURE: "개인정보 삭제 요구",
    Right.SUSPENSION: "개인정보 처리정지 요구",
    Right.WITHDRAWAL: "개인정보 수집·이용 동의 철회",
    Right.PORTABILITY: "개인정보 전송 요구",
    Right.AUTOMATED_DECISION: "자동화된 결정에 대한 거부·설명 등 요구",
}


def right_phrase(right: Right | str) -> str:
    """The request as the notices name it: 삭제 → "개인정보 삭제 요구". Every phrase ends without 받침."""
    return _RIGHT_PHRASES[Right.parse(right)]


_CHANNELS = {
    "email": "전자우편",
    "web": "홈페이지",
    "phone": "전화",
    "written": "서면(우편)",
    "post": "우편",
    "visit": "방문",
    "fax": "팩스",
    "board": "홈페이지 게시판",
    "staff": "직원 접수",
}


def channel_label(channel: str) -> str:
    return _CHANNELS.get(channel, channel)


def mask_name(name: str | None) -> str:
    """Staff e-mails travel outside the console: 홍길동 → 홍*동, 김철 → 김*, John Smith → J********h."""
    if not name:
        return "(성명 미상)"
    name = name.strip()
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def d_day(days_left: int) -> str:
    """3 → "D-3", 0 → "D-day", -2 → "D+2"."""
    if days_left == 0:
        return "D-day"
    return f"D-{days_left}" if days_left > 0 else f"D+{-days_left}"


def clip(text: str, limit: int = 2000) -> str:
    """Cut long free text at `limit` characters, saying so."""
    return text if len(text) <= limit else text[:limit].rstrip() + " …(이하 생략)"


def nl2br(text: str) -> Markup:
    """Escape the text, then keep its line breaks: safe for requester-written text in HTML."""
    lines = str(text).splitlines() or [""]
    return Markup("<br>\n").join(escape(line) for line in lines)


FILTERS = {
    "korean_date": korean_date,
    "korean_datetime": korean_datetime,
    "phone": phone,
    "won": won,
    "josa": josa,
    "right_phrase": right_phrase,
    "channel_label": channel_label,
    "mask_name": mask_name,
    "d_day": d_day,
    "clip": clip,
    "nl2br": nl2br,
}
