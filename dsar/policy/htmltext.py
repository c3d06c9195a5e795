"""HTML policy pages to plain text lines, keeping table rows as `cell | cell |` lines.

Operators often save the policy page straight from the browser. Block elements become lines, list items
become `- ` bullets and each table row becomes one line with ` | ` between cells, which is the same shape the
table reader in `tables.py` already understands for text policies.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset(
    "address article aside blockquote dd div dl dt fieldset figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr main nav ol p pre section table tbody tfoot thead ul caption".split()
)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_SKIP = {"script", "style", "head", "title", "noscript", "template", "svg", "iframe", "object"}
_HTML_HINT = re.compile(r"<(?:!doctype\s+html|html|body|p|div|table|br|h[1-6])\b", re.IGNORECASE)
_HTML_CLOSE = re.compile(r"</(?:p|div|td|li|html|body|h[1-6])\s*>", re.IGNORECASE)


def looks_like_html(text: str, *, suffix: str = "") -> bool:
    """True for saved web pages: by file suffix, or by markup in the opening of the text."""
    if suffix.lower() in {".html", ".htm", ".xhtml"}:
        return True
    head = text[:4000]
    return bool(_HTML_HINT.search(head) and _HTML_CLOSE.search(text))


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skip_depth = 0
        self.cell: list[str] | None = None
        self.row: list[str] | None = None
        self.pre_depth = 0

    # -- helpers -------------------------------------------------------------------------------------------
    def _flush(self) -> None:
        text = "".join(self.current)
        if not self.pre_depth:
            text = re.sub(r"[ \t\r\n\f]+", " ", text)
        if text.strip():
            self.lines.append(text.strip())
        self.current = []

    def _write(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)
        else:
            self.current.append(text)

    # -- parser events -------------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "pre":
            self.pre_depth += 1
        if tag == "tr":
            self._flush()
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "br":
            if self.cell is not None:
                self.cell.append(" ")
            else:
                self._flush()
        elif tag == "li":
            self._flush()
            self.current.append("- ")
        elif tag in _BLOCK:
            self._flush()
            if tag in _HEADINGS:
                self.lines.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "img", "meta", "link", "input"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        if tag in ("td", "th") and self.cell is not None:
            cell = re.sub(r"\s+", " ", "".join(self.cell)).strip()
            self.cell = None
            if self.row is not None:
                self.row.append(cell)
            else:
                self.current.append(cell + " | ")
        elif tag == "tr" and self.row is not None:
            self.lines.append(" | ".join(cell or "-" for cell in self.row) + " |")
            self.row = None
        elif tag in _BLOCK or tag == "li":
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self._write(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_text(html: str) -> str:
    """Convert an HTML policy page to text lines; a blank line goes before each heading only."""
    converter = _Converter()
    converter.feed(html)
    converter.close()
    out: list[str] = []
    for line in converter.lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"
