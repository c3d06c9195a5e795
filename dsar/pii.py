"""Masking of unique identifiers that requesters volunteer in e-mail, and a log filter that applies it.

The PIPC security rules (안전성 확보조치 기준) treat 주민등록번호, 외국인등록번호, passport, driver's
licence, card and account numbers as data to protect, and the Act forbids collecting 주민등록번호 without
a legal basis, so the engine masks them wherever it stores or logs free text. Detection is deliberately
conservative about look-alikes that staff need to read: phone numbers, dates, case numbers
(DSAR-2026-000123), postal codes and amounts are left alone. Card numbers must pass the Luhn check; account
numbers are masked only next to a word that says "account" (계좌, account, IBAN).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

KINDS: tuple[str, ...] = ("rrn", "foreigner_rn", "passport", "driver_licence", "card", "account")


@dataclass(frozen=True)
class MaskResult:
    text: str
    found: list[str]  # the kind of every masked number, in text order


_DASH = "[-\u2010\u2011\u2012\u2013\u2014\u2212]"
_RRN = re.compile(rf"(?<![\w-])(\d{{2}})(\d{{2}})(\d{{2}})\s?(?:{_DASH}\s?)?([1-8])(\d{{6}})(?![\w-])")
_LICENCE = re.compile(r"(?<![\w-])(\d{2})-(\d{2})-(\d{6})-(\d{2})(?![\w-])")
_CARD = re.compile(
    r"(?<![\w-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5})(?![\w-])"
)
_PASSPORT = re.compile(r"(?<![A-Za-z0-9])[MSRGD](?:\d{8}|\d{3}[A-Z]\d{4})(?![A-Za-z0-9])")
_ACCOUNT_WORD = re.compile(r"계좌|입금\s*계좌|환불\s*계좌|\baccount\b|\bacct\b|\bIBAN\b", re.IGNORECASE)
_ACCOUNT_NUMBER = re.compile(r"(?<![\w-])\d{2,6}(?:-\d{1,7}){1,4}(?![\w-])|(?<![\w-])\d{10,14}(?![\w-])")
_PHONE_LIKE = re.compile(r"0\d{1,2}-\d{3,4}-\d{4}|01[016789]\d{7,8}|1[5-9]\d{2}-\d{4}")
_DATE_LIKE = re.compile(r"(?:19|20)\d{2}-\d{1,2}-\d{1,2}")
_ACCOUNT_WINDOW = 40  # characters after the keyword in which a number counts as the account number


def _valid_birth_date(yy: str, mm: str, dd: str, gender: str) -> bool:
    century = {"1": 1900, "2": 1900, "5": 1900, "6": 1900}.get(gender, 2000)
    try:
        date(century + int(yy), int(mm), int(dd))
    except ValueError:
        return False
    return True


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check that payment card numbers satisfy."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _keep_ends(number: str, head: int, tail: int) -> str:
    """Mask every digit except the first `head` and last `tail`, keeping separators."""
    positions = [i for i, ch in enumerate(number) if ch.isdigit()]
    hidden = set(positions[head : len(positions) - tail if tail else None])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(number))


def _spans(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, replacement) for every identifier, before overlap resolution."""
    spans: list[tuple[int, int, str, str]] = []
    for m in _RRN.finditer(text):
        yy, mm, dd, gender, _rest = m.groups()
        if _valid_birth_date(yy, mm, dd, gender):
            kind = "rrn" if gender in "1234" else "foreigner_rn"
            spans.append((m.start(), m.end(), kind, f"{yy}{mm}{dd}-{gender}******"))
    for m in _LICENCE.finditer(text):
        spans.append((m.start(), m.end(), "driver_licence", f"{m.group(1)}-**-******-**"))
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group(0))
        if digits[0] != "0" and 13 <= len(digits) <= 19 and luhn_valid(digits):
            spans.append((m.start(), m.end(), "card", _keep_ends(m.group(0), 4, 4)))
    for m in _PASSPORT.finditer(text):
        spans.append((m.start(), m.end(), "passport", m.group(0)[0] + "*" * (len(m.group(0)) - 1)))
    for word in _ACCOUNT_WORD.finditer(text):
        window_end = min(len(text), word.end() + _ACCOUNT_WINDOW)
        for m in _ACCOUNT_NUMBER.finditer(text, word.end(), window_end):
            number = m.group(0)
            if _PHONE_LIKE.fullmatch(number) or _DATE_LIKE.fullmatch(number):
                continue
            if sum(ch.isdigit() for ch in number) < 10:
                continue
            spans.append((m.start(), m.end(), "account", _keep_ends(number, 0, 4)))
            break
    return spans


def mask_pii(text: str) -> MaskResult:
    """Mask 주민등록번호 / 외국인등록번호 (YYMMDD-G******), passport, driver's licence, card (first and last
    four digits kept) and account numbers (last four kept) in `text`."""
    chosen: list[tuple[int, int, str, str]] = []
    for span in sorted(_spans(text), key=lambda s: (s[0], KINDS.index(s[2]))):
        if chosen and span[0] < chosen[-1][1]:
            continue  # overlaps an earlier, higher-priority match
        chosen.append(span)
    out: list[str] = []
    pos = 0
    for start, end, _kind, replacement in chosen:
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return MaskResult("".join(out), [kind for _s, _e, kind, _r in chosen])


_EMAIL = re.compile(r"(?<![\w.%+-])([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")


def mask_emails(text: str) -> str:
    """hong.gildong@example.com -> h***@example.com: enough for staff to tell messages apart in logs."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


def mask_for_log(text: str) -> str:
    return mask_emails(mask_pii(text).text)


class PiiLogFilter(logging.Filter):
    """Masks identifiers and e-mail addresses in every record that passes through it.

    Attach it to handlers (handler filters also see records propagated from child loggers). The record is
    rewritten in place: `msg` becomes the masked, fully formatted message and `args` is emptied, and an
    exception traceback is formatted and masked now so the handler's formatter prints the masked copy.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad format arguments: still mask what there is
            message = f"{record.msg} {record.args!r}"
        record.msg = mask_for_log(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_for_log(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_for_log(record.stack_info)
        return True
