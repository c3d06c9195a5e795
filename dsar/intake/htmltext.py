"""HTML to readable plain text, for HTML-only request e-mails.

Staff read the result and the classifier matches words in it, so the aim is plain prose: block elements become
line breaks, list items get a dash, links keep their address when it differs from the link text, and
`<blockquote>` content is prefixed with "> " the way plain-text replies quote, so quoted earlier messages
count as quoted. Scripts, styles and the document head are dropped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = {"script", "style", "head", "title", "template", "noscript", "svg"}
_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "table", "tr", "ul", "ol",
    "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "form", "fieldset", "address", "center",
    "hr", "figure", "figcaption",
}
_VOID_BREAK = {"br"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self._current: list[str] = []
        self._quote = 0
        self._skip = 0
        self._pre = 0
        self._href: list[str | None] = []
        self._link_text: list[list[str]] = []

    # line handling ---------------------------------------------------------------------------------------
    def _flush(self) -> None:
        text = "".join(self._current)
        if not self._pre:
            text = _SPACES.sub(" ", text).strip()
        self.lines.append((self._quote, text))
        self._current = []

    def _data(self, text: str) -> None:
        if self._link_text:
            self._link_text[-1].append(text)
        self._current.append(text)

    # parser callbacks ------------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
            return
        if self._skip:
            return
        if tag in _BLOCK or tag == "blockquote" or tag == "li":
            self._flush()
        if tag == "blockquote":
            self._quote += 1
        elif tag == "li":
            self._current.append("- ")
        elif tag == "pre":
            self._pre += 1
        elif tag in ("td", "th"):
            self._current.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self._data(f"[{alt}]")
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))
            self._link_text.append([])
        if tag in _VOID_BREAK:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":  # <a/> carries no text
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag == "a" and self._href:
            href = self._href.pop()
            shown = "".join(self._link_text.pop()).strip()
            if self._link_text:
                self._link_text[-1].append(shown)
            if href and href.startswith(("http://", "https://")) and href != shown:
                self._current.append(f" ({href})")
        elif tag in _BLOCK or tag in ("blockquote", "li"):
            self._flush()
            if tag == "blockquote":
                self._quote = max(0, self._quote - 1)
            elif tag == "pre":
                self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            parts = data.split("\n")
            for i, part in enumerate(parts):
                if i:
                    self._flush()
                self._data(part)
        else:
            self._data(data.replace("\n", " "))


def html_to_text(html: str) -> str:
    """Readable text of an HTML document; never raises on malformed markup."""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except Exception:  # HTMLParser is lenient, but a body must never stop intake
        pass
    collector._flush()
    out: list[str] = []
    blank = True
    for depth, text in collector.lines:
        if not text:
            if not blank:
                out.append("")
                blank = True
            continue
        out.append(("> " * depth) + text)
        blank = False
    return "\n".join(out).strip("\n")
