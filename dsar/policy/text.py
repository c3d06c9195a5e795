"""Bytes on disk to policy text, and the line model every extractor works on.

Policies arrive as whatever the operator saved from the controller's web site: UTF-8 (often with a BOM),
CP949/EUC-KR from older Korean tooling, or the raw HTML page. Everything downstream speaks in 1-based line
numbers of the text returned here, so this module never reorders or merges lines after decoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dsar.errors import PolicyError
from dsar.policy.htmltext import html_to_text, looks_like_html

DEFAULT_MAX_BYTES = 2_000_000

# Bullets that open list items in Korean policies; stripped before a line is classified.
BULLET_CHARS = "-–—‐‑‣•·∙ㆍ※*○●◎◦□■▪▶▷►◆◇☞→✓✔❍❏◈"
_BULLET_RE = re.compile(rf"^(?:[{re.escape(BULLET_CHARS)}]+\s*)+")
# Numbering that opens a heading or list item: 제1조, 1. 01. 1) (1) 가. (가) ① Ⅰ.
_NUMBER_RE = re.compile(
    r"^(?:제\s*\d+\s*조(?:\s*의\s*\d+)?|\d{1,2}\s*[.．](?!\s*\d)|\d{1,2}\s*\)|\(\d{1,2}\)"
    r"|[가나다라마바사아자차카타파하]\s*[.)]|\([가나다라마바사아자차카타파하]\)|[①-⑳]|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩⅪⅫ]+\s*[.)]?)\s*"
)
_SPACE_RE = re.compile(r"[\u00a0\u2002\u2003\u2009\u200b\u3000\ufeff]")


@dataclass(frozen=True, slots=True)
class Line:
    """One source line: `no` is 1-based, `text` is trimmed; `indent` keeps the leading width for headings."""

    no: int
    raw: str
    text: str
    indent: int

    @property
    def blank(self) -> bool:
        return not self.text


def split_lines(text: str) -> list[Line]:
    """Split policy text into numbered lines (numbering matches what an editor shows); `text` drops `**`."""
    lines: list[Line] = []
    for no, raw in enumerate(text.splitlines(), start=1):
        clean = _SPACE_RE.sub(" ", raw).replace("**", "").rstrip()  # Markdown bold is layout, not text
        stripped = clean.lstrip()
        lines.append(Line(no=no, raw=raw, text=stripped, indent=len(clean) - len(stripped)))
    return lines


def strip_marks(text: str) -> str:
    """Remove leading bullets and numbering, repeatedly (`- 1) 가.` style stacks happen)."""
    previous = None
    text = text.strip()
    while previous != text:
        previous = text
        text = _BULLET_RE.sub("", text)
        text = _NUMBER_RE.sub("", text, count=1).strip()
    return text


def collapse(text: str) -> str:
    """Single-space a value taken from the text, so values compare equal across layouts."""
    return re.sub(r"\s+", " ", text).strip()


def read_policy_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Read a saved privacy policy and return its text; HTML pages come back as text lines.

    Raises PolicyError (naming the file and the fix) for a missing, empty, binary, undecodable or
    oversized file.
    """
    p = Path(path)
    name = str(p)
    if not p.is_file():
        raise _file_error(
            "missing",
            name,
            "정책 파일이 없습니다",
            "경로를 확인하세요.",
            "Policy file not found",
            "Check the path.",
        )
    size = p.stat().st_size
    if size > max_bytes:
        raise _file_error(
            "too_large",
            name,
            f"정책 파일이 너무 큽니다({size:,} bytes, 한도 {max_bytes:,})",
            "처리방침 본문만 남기거나 max_bytes 한도를 늘리세요.",
            f"Policy file too large ({size:,} bytes, limit {max_bytes:,})",
            "Keep only the policy text or raise max_bytes.",
            size=size,
            max_bytes=max_bytes,
        )
    data = p.read_bytes()
    if not data.strip():
        raise _file_error(
            "empty",
            name,
            "정책 파일이 비어 있습니다",
            "처리방침 본문을 저장한 파일을 지정하세요.",
            "Policy file is empty",
            "Point to a file that holds the policy text.",
        )
    text = decode_policy_bytes(data, name=name)
    if looks_like_html(text, suffix=p.suffix):
        text = html_to_text(text)
    if not text.strip():
        raise _file_error(
            "empty",
            name,
            "정책 파일에 본문이 없습니다",
            "처리방침 본문이 담긴 파일인지 확인하세요.",
            "Policy file has no text",
            "Check that it holds the policy itself.",
        )
    return text


def decode_policy_bytes(data: bytes, *, name: str) -> str:
    """Decode UTF-8 (BOM or not), UTF-16 with a BOM, or CP949/EUC-KR; refuse binary data."""
    text: str | None = None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = None
    elif b"\x00" in data:
        raise _binary(name)
    else:
        for encoding in ("utf-8-sig", "cp949"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    if text is None:
        raise _file_error(
            "encoding",
            name,
            "정책 파일의 문자 인코딩을 알 수 없습니다",
            "UTF-8로 다시 저장해 주세요.",
            "Cannot decode policy file (not UTF-8, UTF-16 or CP949/EUC-KR)",
            "Save it again as UTF-8.",
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\t\f\v")
    if controls > max(8, len(text) // 100):
        raise _binary(name)
    return text


def _binary(name: str) -> PolicyError:
    return _file_error(
        "binary",
        name,
        "정책 파일이 텍스트가 아닙니다(바이너리)",
        "PDF나 HWP라면 텍스트(.txt)나 HTML로 바꿔 저장하세요.",
        "Policy file is binary, not text",
        "Convert PDF/HWP to .txt or .html first.",
    )


def _file_error(
    reason: str, name: str, ko: str, ko_fix: str, en: str, en_fix: str, **extra: object
) -> PolicyError:
    """One message in Korean then English, each naming the file and saying what to do."""
    return PolicyError(f"{ko}: {name}. {ko_fix} / {en}: {name}. {en_fix}", path=name, reason=reason, **extra)
