"""Turning the bytes of Korean e-mail into text: charsets, RFC 2047 encoded words, RFC 2231 parameters.

Korean mail arrives as UTF-8, EUC-KR (which in practice means its superset CP949, so characters such as 똠
decode), or ISO-2022-KR from old systems, and the declared charset is often wrong. The rule used everywhere:
try the declared charset strictly; if it fails, or the bytes are plainly UTF-8 under a legacy label, try the
fallbacks UTF-8, CP949, ISO-2022-KR and report which one worked; if none works, say so and decode with
replacement characters so staff can still look at it.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass
from typing import Literal

# Labels that name CP949 or a subset of it. EUC-KR proper lacks 8,822 syllables that CP949 has.
_KOREAN_LABELS = {
    "euc-kr", "euc_kr", "euckr", "ks_c_5601-1987", "ks_c_5601", "ksc5601", "ksc_5601", "ks_c_5601-1989",
    "korean", "cp949", "ms949", "uhc", "x-windows-949", "windows-949", "x-uhc", "csksc56011987",
}
# Python codecs that are not character sets in the mail sense (they would un-escape or transform the data).
_NOT_CHARSETS = {"unicode_escape", "raw_unicode_escape", "idna", "punycode", "undefined", "utf_7", "charmap"}
FALLBACKS: tuple[str, ...] = ("utf-8", "cp949", "iso2022_kr")
_ISO2022KR_MARK = b"\x1b$)C"

_DISPLAY = {"iso2022_kr": "iso-2022-kr", "ascii": "us-ascii"}


def normalize_charset(label: str | None) -> str | None:
    """Python codec name for a MIME charset label, or None when the label is missing or unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in _KOREAN_LABELS:
        return "cp949"
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_CHARSETS:
        return None
    return info.name


def display_charset(codec: str) -> str:
    """The MIME-style name reported to callers (utf-8, cp949, iso-2022-kr, us-ascii ...)."""
    name = codecs.lookup(codec).name
    return _DISPLAY.get(name, name.replace("_", "-"))


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # display name of the codec that produced `text`
    status: Literal["ok", "fallback", "failed"]


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


def _drop_broken_tail(data: bytes, codec: str) -> bytes:
    for trim in range(1, 4):
        if len(data) > trim and _strict(data, codec) is None and _strict(data[:-trim], codec) is not None:
            return data[:-trim]
    return data


def _is_utf8_text(data: bytes) -> bool:
    return not data.isascii() and _strict(data, "utf-8") is not None


def decode_bytes(data: bytes, declared: str | None, *, cut: bool = False) -> Decoded:
    """Decode `data` declared as `declared`; see the module docstring for the order of attempts.

    `cut`: the data is known to be truncated, so a multi-byte character broken off at the very end is
    dropped instead of making the whole text undecodable.
    """
    codec = normalize_charset(declared)
    if cut:
        data = _drop_broken_tail(data, codec or "utf-8")
    if codec is not None and codec != "ascii" and not codec.startswith("utf"):
        # A legacy label on bytes that are valid multi-byte UTF-8 is a mislabel: CP949 Hangul is never valid
        # UTF-8, and single-byte charsets would turn UTF-8 Korean into mojibake while "succeeding".
        if _ISO2022KR_MARK not in data and _is_utf8_text(data):
            return Decoded(data.decode("utf-8"), "utf-8", "fallback")
    if codec is not None:
        if codec in ("utf-8", "ascii") and _ISO2022KR_MARK in data:
            text = _strict(data, "iso2022_kr")
            if text is not None:
                return Decoded(text, "iso-2022-kr", "fallback")
        text = _strict(data, codec)
        if text is not None:
            return Decoded(text, display_charset(codec), "ok")
    if codec is None and data.isascii() and _ISO2022KR_MARK not in data:
        return Decoded(data.decode("ascii"), "us-ascii", "ok")
    order = ("iso2022_kr", *FALLBACKS) if _ISO2022KR_MARK in data else FALLBACKS
    for candidate in order:
        if candidate == codec:
            continue
        text = _strict(data, candidate)
        if text is not None:
            return Decoded(text, display_charset(candidate), "fallback")
    shown = codec or "utf-8"
    return Decoded(data.decode(shown, errors="replace"), display_charset(shown), "failed")


def unsurrogate(value: str) -> str:
    """Header text as parsed by `email` keeps raw 8-bit bytes as surrogates; decode those bytes properly."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("ascii", "surrogateescape")
    return decode_bytes(data, None).text


_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding in "Bb":
            cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
            cleaned += "=" * (-len(cleaned) % 4)
            if len(cleaned.rstrip("=")) % 4 == 1:
                return None
            return base64.b64decode(cleaned)
        return re.sub(
            rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), payload.replace("_", " ").encode()
        )
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words mixed with plain text; whitespace between adjacent words is dropped,
    and adjacent words in one charset are joined before decoding (encoders split multi-byte characters)."""
    value = unsurrogate(value)
    out: list[str] = []
    pending = bytearray()
    pending_charset: str | None = None
    previous_was_word = False
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending_charset is not None:
            out.append(decode_bytes(bytes(pending), pending_charset).text)
        pending, pending_charset = bytearray(), None

    for match in _WORD.finditer(value):
        between = value[pos : match.start()]
        pos = match.end()
        charset = match.group(1).split("*", 1)[0]  # drop an RFC 2231 language suffix
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:  # malformed word: keep it as it was written
            flush()
            out.append(between + match.group(0))
            previous_was_word = False
            continue
        adjacent = previous_was_word and not between.strip()
        if not adjacent or (pending_charset or "").lower() != charset.lower():
            flush()
        if not adjacent:
            out.append(between)
        pending_charset = charset
        pending += data
        previous_was_word = True
    flush()
    out.append(value[pos:])
    return "".join(out)


_PARAM = re.compile(r';\s*([^\s=;"]+)\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)')


def header_params(value: str) -> dict[str, str]:
    """Parameters of a structured header such as Content-Disposition, with RFC 2231 continuations and
    charsets, RFC 2047 words inside quoted values (a common non-standard habit), and raw 8-bit text."""
    value = unsurrogate(value)
    plain: dict[str, str] = {}
    pieces: dict[str, dict[int, tuple[bool, str]]] = {}
    for match in _PARAM.finditer(value):
        key, raw = match.group(1).lower(), match.group(2).strip()
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1] if raw.endswith('"') and len(raw) > 1 else raw[1:])
        parts = re.fullmatch(r"([^*]+)\*(?:(\d{1,3})\*?|)", key)
        if parts and "*" in key:
            name, index = parts.group(1), int(parts.group(2) or 0)
            pieces.setdefault(name, {})[index] = (key.endswith("*"), raw)
        else:
            plain.setdefault(key, decode_words(raw))
    for name, numbered in pieces.items():
        charset: str | None = None
        data = bytearray()
        for i, (encoded, piece) in enumerate(numbered[k] for k in sorted(numbered)):
            if encoded and i == 0 and piece.count("'") >= 2:
                charset, _lang, piece = piece.split("'", 2)
            data += urllib.parse.unquote_to_bytes(piece) if encoded else piece.encode("utf-8")
        plain[name] = decode_bytes(bytes(data), charset or None).text
    return {k: unicodedata.normalize("NFC", v) for k, v in plain.items()}
